#include "report/aggregate.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <sstream>

#include "common/exit_codes.h"

namespace hft::report {
namespace {

std::filesystem::path data_file(const std::string& name) {
  return std::filesystem::path(REPORT_DATA_DIR) / name;
}

AggregateReport aggregate_file(const std::string& name, const AggregateOptions& options = {}) {
  std::ifstream file(data_file(name));
  EXPECT_TRUE(file.good()) << "cannot open " << data_file(name);
  Aggregator aggregator;
  std::string line;
  while (std::getline(file, line)) aggregator.add_line(line);
  return aggregator.finish(options);
}

bool contains(const std::vector<std::string>& items, std::string_view fragment) {
  for (const auto& item : items) {
    if (item.find(fragment) != std::string::npos) return true;
  }
  return false;
}

ClientResult client(std::string id, std::int64_t start_s, double duration_s,
                    std::uint64_t success) {
  ClientResult result;
  result.client_id = std::move(id);
  result.orders_sent = success;
  result.orders_success = success;
  result.start_unix_ns = start_s * 1'000'000'000;
  result.end_unix_ns = result.start_unix_ns + static_cast<std::int64_t>(duration_s * 1e9);
  result.duration_s = duration_s;
  result.throughput = static_cast<double>(success) / duration_s;
  Histogram histogram;
  histogram.record(1000, success);
  result.histogram = histogram.encode_compressed_base64();
  return result;
}

TEST(Aggregate, SequentialClientsSkipTheGap) {
  AggregateReport report = aggregate_file("back_to_back.txt");

  EXPECT_EQ(report.clients, 2u);
  EXPECT_EQ(report.orders_success, 30'000u);
  EXPECT_DOUBLE_EQ(report.window_s, 60.0);
  EXPECT_EQ(report.window_periods, 2u);
  EXPECT_DOUBLE_EQ(report.throughput, 500.0);
  EXPECT_DOUBLE_EQ(report.sum_of_client_throughput, 1000.0);
  EXPECT_TRUE(contains(report.warnings, "do not overlap")) << render_text(report);
  EXPECT_EQ(report.status, "INVESTIGATION NEEDED");
}

TEST(Aggregate, MergedPercentilesAreNotAveraged) {
  AggregateReport report = aggregate_file("back_to_back.txt");

  // Client 1 spans 1..3 ms and client 2 spans 2..4 ms uniformly: the merged p99 lies near
  // 3.96 ms, while the mean of the two p99 values would be about 3.47 ms.
  ASSERT_TRUE(report.percentiles_merged);
  EXPECT_EQ(report.latency_samples, 30'000u);
  EXPECT_NEAR(report.latency.p99, 3.96, 0.01);
  EXPECT_NEAR(report.latency.p50, 2.5, 0.01);
  EXPECT_DOUBLE_EQ(report.latency.max, 4.0);
}

TEST(Aggregate, SingleRequestClientIsFinite) {
  AggregateReport report = aggregate_file("one_request.txt");
  std::string json = render_json(report);

  EXPECT_EQ(report.clients, 1u);
  EXPECT_EQ(json.find("nan"), std::string::npos) << json;
  EXPECT_EQ(json.find("inf"), std::string::npos) << json;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  EXPECT_EQ(uint64_t(root["orders_success"]), 1u);
  EXPECT_DOUBLE_EQ(double(root["latency_ms"]["p99"]), 1.234);
}

TEST(Aggregate, KubectlPrefixesDuplicatesAndMissing) {
  AggregateOptions options;
  options.expect_clients = 4;
  AggregateReport report = aggregate_file("kubectl.txt", options);

  EXPECT_EQ(report.clients, 3u);
  EXPECT_EQ(report.missing_clients, std::vector<std::string>{"2"});
  EXPECT_EQ(report.duplicate_clients, std::vector<std::string>{"3"});
  EXPECT_EQ(report.unparsed_lines, 1u);
  EXPECT_EQ(exit_code_for(report), kExitThresholdMissed);
}

TEST(Aggregate, LegacyLinesSayPercentilesAreMissing) {
  AggregateReport report = aggregate_file("legacy.txt");
  std::string json = render_json(report);

  EXPECT_EQ(report.clients, 2u);
  EXPECT_FALSE(report.percentiles_merged);
  EXPECT_TRUE(contains(report.warnings, "no latency histogram"));
  EXPECT_DOUBLE_EQ(report.throughput, 549.0 + 533.25);
  EXPECT_DOUBLE_EQ(report.latency.max, 60.1);
  EXPECT_NE(json.find(R"("p99":null)"), std::string::npos) << json;
}

TEST(Aggregate, ExpectedIdsStartAtOneWithoutZero) {
  Aggregator aggregator;
  aggregator.add_result(client("1", 100, 10, 1000));
  aggregator.add_result(client("3", 100, 10, 1000));
  AggregateOptions options;
  options.expect_clients = 3;

  AggregateReport report = aggregator.finish(options);

  EXPECT_EQ(report.missing_clients, std::vector<std::string>{"2"});
}

TEST(Aggregate, OverlappingWindowsUseTheUnion) {
  Aggregator aggregator;
  aggregator.add_result(client("1", 100, 10, 10'000));
  aggregator.add_result(client("2", 105, 10, 10'000));

  AggregateReport report = aggregator.finish({});

  EXPECT_DOUBLE_EQ(report.window_s, 15.0);
  EXPECT_EQ(report.window_periods, 1u);
  EXPECT_NEAR(report.throughput, 20'000.0 / 15.0, 1e-9);
  EXPECT_TRUE(contains(report.warnings, "start times differ")) << render_text(report);
}

TEST(Aggregate, ThresholdsDecideTheExitCode) {
  Aggregator aggregator;
  aggregator.add_result(client("1", 100, 10, 120'000));
  AggregateOptions met;
  met.min_throughput = 10'000;
  met.max_p99_ms = 1.5;
  AggregateOptions missed;
  missed.min_throughput = 20'000;
  missed.max_p99_ms = 0.5;

  AggregateReport passing = aggregator.finish(met);
  AggregateReport failing = aggregator.finish(missed);

  EXPECT_EQ(passing.status, "TARGET ACHIEVED");
  EXPECT_EQ(exit_code_for(passing), kExitOk);
  EXPECT_EQ(failing.threshold_failures.size(), 2u);
  EXPECT_EQ(exit_code_for(failing), kExitThresholdMissed);
}

TEST(Aggregate, NoInputIsAFailure) {
  Aggregator aggregator;
  aggregator.add_line("just some log text");

  AggregateReport report = aggregator.finish({});

  EXPECT_EQ(report.clients, 0u);
  EXPECT_EQ(report.unparsed_lines, 0u);
  EXPECT_EQ(exit_code_for(report), kExitFailure);
  EXPECT_EQ(render_json(report).find("nan"), std::string::npos);
}

TEST(StatusTable, BoundariesMatchTheTable) {
  struct Case {
    double throughput;
    std::string_view status;
  };
  for (Case c : {Case{10'000, "TARGET ACHIEVED"}, Case{9'999.9, "EXCELLENT"},
                 Case{5'000, "EXCELLENT"}, Case{4'999, "GOOD"}, Case{2'000, "GOOD"},
                 Case{1'999, "IMPROVEMENT"}, Case{1'074, "IMPROVEMENT"},
                 Case{1'073.9, "INVESTIGATION NEEDED"}, Case{0, "INVESTIGATION NEEDED"}}) {
    EXPECT_EQ(status_for_throughput(c.throughput), c.status) << c.throughput;
  }
}

TEST(Threshold, ParsesPlainNumbersOnly) {
  EXPECT_EQ(parse_threshold("--min-throughput", "10000").value, 10'000.0);
  EXPECT_EQ(parse_threshold("--max-p99-ms", "2.5").value, 2.5);
  for (std::string_view bad : {"10k", "abc", "", "-1", "+5", "nan", "inf", "1e4", "5 "}) {
    ThresholdParse parsed = parse_threshold("--min-throughput", bad);
    EXPECT_FALSE(parsed.value.has_value()) << "'" << bad << "'";
    EXPECT_NE(parsed.error.find("--min-throughput"), std::string::npos) << parsed.error;
  }
}

TEST(ResultLine, FormatThenParseKeepsFields) {
  ClientResult original = client("12", 100, 2.5, 777);
  original.errors.timeout = 3;
  original.open_loop = true;
  original.target_rate = 1000;
  original.latency.p99 = 4.25;

  ParsedLine parsed = parse_result_line("[pod/x/load] " + format_result_line(original));

  ASSERT_EQ(parsed.status, LineParse::kParsed) << parsed.error;
  EXPECT_EQ(parsed.result.client_id, "12");
  EXPECT_EQ(parsed.result.orders_success, 777u);
  EXPECT_EQ(parsed.result.errors.timeout, 3u);
  EXPECT_TRUE(parsed.result.open_loop);
  EXPECT_DOUBLE_EQ(parsed.result.latency.p99, 4.25);
  EXPECT_EQ(parsed.result.histogram, original.histogram);
  EXPECT_FALSE(parsed.result.legacy);
}

TEST(ResultLine, FirstSixFieldsComeFirst) {
  std::string line = format_result_line(client("1", 100, 1, 1));

  EXPECT_EQ(line.rfind(R"(JSON:{"client_id":1,"orders_sent":1,"orders_success":1,)", 0), 0u)
      << line;
  std::size_t throughput = line.find("\"throughput\"");
  std::size_t avg = line.find("\"avg_latency\"");
  std::size_t max = line.find("\"max_latency\"");
  std::size_t version = line.find("\"version\"");
  EXPECT_LT(throughput, avg);
  EXPECT_LT(avg, max);
  EXPECT_LT(max, version);
}

}  // namespace
}  // namespace hft::report
