// `hft load` as a process against real servers on 127.0.0.1: nginx with fixed replies, a server
// that never replies to orders, and `hft serve`.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "common/exit_codes.h"
#include "fixtures.h"
#include "report/aggregate.h"
#include "report/histogram.h"

namespace hft::load {
namespace {

using std::chrono::seconds;

std::int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(LoadClient, ClosedLoopAgainstNginx) {
  test::NginxServer nginx;

  test::LoadRun run = test::run_load({"--api-url", nginx.url(), "--client-id", "4", "--duration",
                                      "1", "--connections", "4", "--profile", "seed"},
                                     seconds(30));

  ASSERT_TRUE(run.exit_code.has_value()) << "hft load did not finish";
  ASSERT_EQ(*run.exit_code, kExitOk) << run.errors;
  EXPECT_EQ(run.result_lines, 1) << run.output;
  ASSERT_TRUE(run.result.has_value()) << run.output;
  const report::ClientResult& result = *run.result;
  EXPECT_EQ(result.client_id, "4");
  EXPECT_GT(result.orders_sent, 100u);
  EXPECT_EQ(result.orders_success, result.orders_sent);
  EXPECT_EQ(result.errors.total(), 0u);
  EXPECT_FALSE(result.open_loop);
  EXPECT_GE(result.duration_s, 1.0);
  EXPECT_LT(result.duration_s, 3.0);
  EXPECT_NEAR(result.throughput, static_cast<double>(result.orders_success) / result.duration_s,
              1e-3 * result.throughput);

  auto histogram = report::Histogram::decode_compressed_base64(result.histogram);
  ASSERT_TRUE(histogram.histogram.has_value());
  EXPECT_EQ(histogram.histogram->total_count(), result.requests_sent);
  EXPECT_NE(run.output.find("=== hft load: client 4 ==="), std::string::npos) << run.output;
  EXPECT_NE(run.errors.find("client 4:"), std::string::npos) << "no progress line";
}

TEST(LoadClient, BatchCountsOrdersIndividually) {
  test::NginxServer nginx;

  test::LoadRun run = test::run_load(
      {"--api-url", nginx.url(), "--duration", "1", "--connections", "2", "--batch", "3"},
      seconds(30));

  ASSERT_TRUE(run.exit_code.has_value());
  ASSERT_TRUE(run.result.has_value()) << run.output << run.errors;
  const report::ClientResult& result = *run.result;
  // nginx replies to every batch with three results, the second one an error.
  std::uint64_t batches = result.requests_sent - result.cancels_sent;
  EXPECT_GT(batches, 0u);
  EXPECT_EQ(result.orders_sent, 3 * batches);
  EXPECT_EQ(result.orders_success, 2 * batches);
  EXPECT_EQ(result.errors.rejected, batches);
  EXPECT_EQ(result.batch, 3);
}

TEST(LoadClient, OpenLoopRateIsTotalOverConnections) {
  test::NginxServer nginx;

  test::LoadRun run = test::run_load({"--api-url", nginx.url(), "--duration", "3", "--rate", "1000",
                                      "--connections", "50", "--profile", "seed"},
                                     seconds(30));

  ASSERT_TRUE(run.exit_code.has_value());
  ASSERT_TRUE(run.result.has_value()) << run.output << run.errors;
  const report::ClientResult& result = *run.result;
  EXPECT_TRUE(result.open_loop);
  EXPECT_EQ(result.target_rate, 1000.0);
  EXPECT_EQ(result.connections, 50);
  EXPECT_EQ(result.orders_sent, 3000u) << "3 s at 1000 orders/s";
  EXPECT_NEAR(result.achieved_rate, 1000.0, 50.0);
  EXPECT_NEAR(result.throughput, 1000.0, 100.0);
  EXPECT_TRUE(result.rate_kept);
  EXPECT_FALSE(result.service_histogram.empty());
}

TEST(LoadClient, SingleRequestGivesFiniteReport) {
  test::NginxServer nginx;

  // One order per second for one second: exactly one request.
  test::LoadRun run = test::run_load({"--api-url", nginx.url(), "--duration", "1", "--rate", "1",
                                      "--connections", "1", "--profile", "seed"},
                                     seconds(30));

  ASSERT_TRUE(run.result.has_value()) << run.output << run.errors;
  EXPECT_EQ(run.result->orders_sent, 1u);
  EXPECT_EQ(run.output.find("nan"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("inf"), std::string::npos) << run.output;

  report::Aggregator aggregator;
  std::istringstream lines(run.output);
  std::string line;
  while (std::getline(lines, line)) aggregator.add_line(line);
  report::AggregateReport report = aggregator.finish({});
  std::string json = report::render_json(report);
  EXPECT_EQ(report.orders_success, 1u);
  EXPECT_EQ(json.find("nan"), std::string::npos) << json;
  EXPECT_EQ(json.find("inf"), std::string::npos) << json;
  EXPECT_EQ(json.find("null"), std::string::npos) << json;
}

TEST(LoadClient, EveryRequestTimesOut) {
  test::SilentServer server;

  auto started_ns = unix_now_ns();
  test::LoadRun run = test::run_load(
      {"--api-url", server.url(), "--duration", "1", "--connections", "2", "--timeout-ms", "200"},
      seconds(30));

  ASSERT_TRUE(run.exit_code.has_value());
  EXPECT_EQ(*run.exit_code, kExitOk) << run.errors;
  ASSERT_TRUE(run.result.has_value()) << run.output << run.errors;
  const report::ClientResult& result = *run.result;
  EXPECT_EQ(result.orders_success, 0u);
  EXPECT_EQ(result.throughput, 0.0);
  // Two connections, each giving up after 200 ms and sending again, for one second.
  EXPECT_GE(result.errors.timeout, 8u);
  EXPECT_EQ(result.errors.timeout, result.requests_sent);
  EXPECT_GE(result.duration_s, 1.0);
  EXPECT_LT(result.duration_s, 1.5);
  EXPECT_GE(result.start_unix_ns, started_ns);
  EXPECT_NEAR(static_cast<double>(result.end_unix_ns - result.start_unix_ns) / 1e9,
              result.duration_s, 1e-3);
}

TEST(LoadClient, UnreachableServerCountsConnectError) {
  int closed_port = hft::test::free_tcp_port();

  test::LoadRun run = test::run_load(
      {"--api-url", "http://127.0.0.1:" + std::to_string(closed_port), "--duration", "1"},
      seconds(30));

  ASSERT_TRUE(run.exit_code.has_value());
  EXPECT_EQ(*run.exit_code, kExitFailure);
  ASSERT_TRUE(run.result.has_value()) << run.output;
  EXPECT_EQ(run.result->errors.connect, 1u);
  EXPECT_EQ(run.result->orders_sent, 0u);
  EXPECT_NE(run.errors.find("registration request failed"), std::string::npos) << run.errors;
}

TEST(LoadClient, StartAtWaitsForTheTime) {
  test::NginxServer nginx;
  auto start_at_ns = unix_now_ns() + 1'500'000'000;
  std::string start_at = std::to_string(static_cast<double>(start_at_ns) / 1e9);

  test::LoadRun run = test::run_load(
      {"--api-url", nginx.url(), "--duration", "0.5", "--start-at", start_at}, seconds(30));

  ASSERT_TRUE(run.result.has_value()) << run.output << run.errors;
  EXPECT_GE(run.result->start_unix_ns, start_at_ns - 1'000'000);
  EXPECT_LT(run.result->start_unix_ns, start_at_ns + 500'000'000);
}

TEST(LoadClient, PastStartAtWarnsAndStarts) {
  test::NginxServer nginx;

  test::LoadRun run = test::run_load(
      {"--api-url", nginx.url(), "--duration", "0.3", "--start-at", "1000000000.5"}, seconds(30));

  ASSERT_TRUE(run.result.has_value()) << run.output << run.errors;
  EXPECT_NE(run.errors.find("warning: --start-at 1000000000.5 was"), std::string::npos)
      << run.errors;
}

TEST(LoadClient, InvalidFlagsAreUsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--connections", "0"}, "--connections"},
      {{"--profile", "fast"}, "--profile"},
      {{"--symbols", "aapl"}, "--symbols"},
      {{"--api-url", "https://example.com"}, "--api-url"},
      {{"--start-at", "soon"}, "--start-at"},
  };
  for (const Case& c : cases) {
    test::LoadRun run = test::run_load(c.args, seconds(10));

    ASSERT_TRUE(run.exit_code.has_value());
    EXPECT_EQ(*run.exit_code, kExitUsage) << c.message;
    EXPECT_NE(run.errors.find(c.message), std::string::npos) << run.errors;
    EXPECT_EQ(run.result_lines, 0);
  }
}

TEST(LoadClient, RealisticProfileAgainstServer) {
  hft::test::ServerProcess server;
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());

  test::LoadRun run = test::run_load(
      {"--api-url", url, "--duration", "2", "--connections", "4", "--symbols", "3", "--seed", "9"},
      seconds(60));

  ASSERT_TRUE(run.exit_code.has_value());
  ASSERT_EQ(*run.exit_code, kExitOk) << run.errors;
  ASSERT_TRUE(run.result.has_value()) << run.output;
  const report::ClientResult& result = *run.result;
  EXPECT_GT(result.orders_success, 0u);
  EXPECT_EQ(result.orders_success, result.orders_sent) << run.output;
  EXPECT_EQ(result.errors.http_4xx, 0u) << "orders on the tick and lot must be accepted";
  EXPECT_GT(result.cancels_sent, 0u);
}

TEST(LoadClient, BatchAgainstServer) {
  hft::test::ServerProcess server;
  std::string url = "http://127.0.0.1:" + std::to_string(server.port());

  test::LoadRun run = test::run_load(
      {"--api-url", url, "--duration", "1", "--connections", "2", "--batch", "10"}, seconds(60));

  ASSERT_TRUE(run.result.has_value()) << run.output << run.errors;
  const report::ClientResult& result = *run.result;
  EXPECT_GT(result.orders_success, 0u);
  EXPECT_EQ(result.orders_success + result.errors.rejected, result.orders_sent) << run.output;
  EXPECT_EQ(result.errors.http_4xx, 0u);
}

}  // namespace
}  // namespace hft::load
