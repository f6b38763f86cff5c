// The README's first command in small: `hft run` starts a server, 20 client processes and the
// aggregator, and its report must list every client with a status line from the table.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "support.h"

namespace hft::test {
namespace {

constexpr const char* kStatusLines[] = {"TARGET ACHIEVED", "EXCELLENT", "GOOD", "IMPROVEMENT",
                                        "INVESTIGATION NEEDED"};

TEST(MainJob, TwentyClientsShortRunReportsEveryClient) {
  TempDir dir;
  auto stdout_path = dir.path() / "run.out";
  auto raw_path = dir.path() / "clients.out";
  ChildProcess::Options options;
  options.args = {hft_binary(), "run",
                  "--clients",  "20",
                  "--duration", "3",
                  "--port",     std::to_string(free_tcp_port()),
                  "--output",   raw_path.string()};
  options.stdout_mode = ChildProcess::Output::kFile;
  options.stdout_path = stdout_path;
  options.stderr_mode = ChildProcess::Output::kFile;
  options.stderr_path = dir.path() / "run.err";
  ChildProcess run(options);

  auto exit_code = run.wait_for_exit(std::chrono::seconds(120));
  ASSERT_TRUE(exit_code.has_value()) << "hft run did not finish within 120 s";
  std::string report = read_file(stdout_path);
  EXPECT_EQ(*exit_code, 0) << report << read_file(dir.path() / "run.err");

  bool has_status = false;
  for (const char* status : kStatusLines) {
    has_status = has_status || report.find(status) != std::string::npos;
  }
  EXPECT_TRUE(has_status) << "no status line in the report:\n" << report;

  // The same client output, aggregated again as JSON, gives the figures to check.
  ChildProcess::Options aggregate_options;
  aggregate_options.args = {hft_binary(),       "aggregate", "--json",
                            "--expect-clients", "20",        raw_path.string()};
  aggregate_options.stdout_mode = ChildProcess::Output::kFile;
  aggregate_options.stdout_path = dir.path() / "report.json";
  ChildProcess aggregate(aggregate_options);
  auto aggregate_code = aggregate.wait_for_exit(std::chrono::seconds(30));
  ASSERT_TRUE(aggregate_code.has_value());
  ASSERT_EQ(*aggregate_code, 0);

  simdjson::dom::parser parser;
  simdjson::dom::element json;
  std::string text = read_file(dir.path() / "report.json");
  ASSERT_EQ(parser.parse(text).get(json), simdjson::SUCCESS) << text;
  EXPECT_EQ(int64_t(json["clients"]), 20);
  EXPECT_GT(double(json["throughput"]), 0.0);
  EXPECT_EQ(double(json["success_rate"]), 1.0);
  EXPECT_EQ(simdjson::dom::array(json["missing_clients"]).size(), 0u);
  EXPECT_EQ(simdjson::dom::array(json["per_client"]).size(), 20u);
  for (simdjson::dom::element client : simdjson::dom::array(json["per_client"])) {
    EXPECT_GT(double(client["throughput"]), 0.0);
  }
  EXPECT_NE(std::string(std::string_view(json["status"])), "");
}

}  // namespace
}  // namespace hft::test
