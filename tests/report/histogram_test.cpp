#include "report/histogram.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <random>
#include <vector>

#include "support.h"

namespace hft::report {
namespace {

TEST(Histogram, SmallValuesAreExact) {
  Histogram histogram;
  for (std::int64_t value = 0; value < 2048; ++value) histogram.record(value);

  EXPECT_EQ(histogram.total_count(), 2048u);
  EXPECT_EQ(histogram.count_at_value(0), 1u);
  EXPECT_EQ(histogram.count_at_value(2047), 1u);
  EXPECT_EQ(histogram.min(), 0);
  EXPECT_EQ(histogram.max(), 2047);
  EXPECT_EQ(histogram.value_at_percentile(50.0), 1023);
}

TEST(Histogram, LargeValuesKeepThreeDigits) {
  Histogram histogram;
  histogram.record(1'234'567);

  EXPECT_EQ(histogram.lowest_equivalent_value(1'234'567), 1'233'920);
  EXPECT_EQ(histogram.highest_equivalent_value(1'234'567), 1'234'943);
  EXPECT_EQ(histogram.max(), 1'234'943);
  std::int64_t error = histogram.max() - 1'234'567;
  EXPECT_LT(static_cast<double>(error) / 1'234'567.0, 0.001);
}

TEST(Histogram, PercentilesOfUniformValues) {
  Histogram histogram;
  for (std::int64_t value = 1; value <= 10'000; ++value) histogram.record(value);

  // 3 significant digits: each result lies within 0.1% above the exact percentile.
  struct Case {
    double percentile;
    std::int64_t exact;
  };
  for (Case c : {Case{50.0, 5'000}, Case{90.0, 9'000}, Case{99.0, 9'900}, Case{99.9, 9'990},
                 Case{100.0, 10'000}}) {
    std::int64_t value = histogram.value_at_percentile(c.percentile);
    EXPECT_GE(value, c.exact) << "percentile " << c.percentile;
    EXPECT_LE(value, c.exact + c.exact / 1000 + 1) << "percentile " << c.percentile;
  }
  EXPECT_NEAR(histogram.mean(), 5000.5, 5.0);
}

TEST(Histogram, EmptyHistogramReturnsZeros) {
  Histogram histogram;

  EXPECT_EQ(histogram.total_count(), 0u);
  EXPECT_EQ(histogram.value_at_percentile(99.0), 0);
  EXPECT_EQ(histogram.max(), 0);
  EXPECT_EQ(histogram.mean(), 0.0);
}

TEST(Histogram, ValueAboveRangeIsClamped) {
  Histogram histogram(10'000);
  histogram.record(50'000);
  histogram.record(-5);

  EXPECT_EQ(histogram.total_count(), 2u);
  EXPECT_EQ(histogram.clamped_count(), 1u);
  EXPECT_EQ(histogram.count_at_value(0), 1u);
  EXPECT_EQ(histogram.count_at_value(10'000), 1u);
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency_us(7.0, 1.2);
  Histogram first;
  Histogram second;
  Histogram all;
  for (int i = 0; i < 50'000; ++i) {
    auto value = static_cast<std::int64_t>(latency_us(rng));
    (i % 3 == 0 ? first : second).record(value);
    all.record(value);
  }

  Histogram merged;
  merged.add(first);
  merged.add(second);

  EXPECT_EQ(merged.total_count(), all.total_count());
  std::vector<std::tuple<std::int64_t, std::int64_t, std::uint64_t>> merged_buckets;
  std::vector<std::tuple<std::int64_t, std::int64_t, std::uint64_t>> all_buckets;
  merged.for_each_bucket(
      [&](auto low, auto high, auto count) { merged_buckets.emplace_back(low, high, count); });
  all.for_each_bucket(
      [&](auto low, auto high, auto count) { all_buckets.emplace_back(low, high, count); });
  EXPECT_EQ(merged_buckets, all_buckets);
  for (double percentile : {50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(merged.value_at_percentile(percentile), all.value_at_percentile(percentile))
        << "percentile " << percentile;
  }
}

TEST(Histogram, MergeIntoSmallerRangeClamps) {
  Histogram wide;
  wide.record(1'000'000);
  Histogram narrow(10'000);

  narrow.add(wide);

  EXPECT_EQ(narrow.total_count(), 1u);
  EXPECT_EQ(narrow.clamped_count(), 1u);
  EXPECT_EQ(narrow.count_at_value(10'000), 1u);
}

TEST(Histogram, EncodeDecodeRoundTrip) {
  Histogram histogram;
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<std::int64_t> value(0, 3'000'000'000);
  for (int i = 0; i < 20'000; ++i) histogram.record(value(rng), 1 + static_cast<unsigned>(i % 5));
  histogram.record(17, 1ULL << 40);

  std::string encoded = histogram.encode_compressed_base64();
  auto decoded = Histogram::decode_compressed_base64(encoded);

  ASSERT_TRUE(decoded.histogram.has_value()) << to_string(decoded.error);
  EXPECT_EQ(encoded.rfind("HISTF", 0), 0u) << "V2 compressed encodings start with HISTF";
  EXPECT_EQ(decoded.histogram->total_count(), histogram.total_count());
  EXPECT_EQ(decoded.histogram->max(), histogram.max());
  EXPECT_EQ(decoded.histogram->min(), histogram.min());
  EXPECT_EQ(decoded.histogram->count_at_value(17), 1ULL << 40);
  EXPECT_EQ(decoded.histogram->value_at_percentile(99.0), histogram.value_at_percentile(99.0));
  EXPECT_EQ(decoded.histogram->encode_compressed_base64(), encoded);
}

TEST(Histogram, EmptyEncodingRoundTrip) {
  Histogram empty;
  auto decoded = Histogram::decode_compressed_base64(empty.encode_compressed_base64());

  ASSERT_TRUE(decoded.histogram.has_value()) << to_string(decoded.error);
  EXPECT_EQ(decoded.histogram->total_count(), 0u);
}

TEST(Histogram, DecodeRejectsMalformedInput) {
  Histogram histogram;
  histogram.record(100);
  std::string encoded = histogram.encode_compressed_base64();

  struct Case {
    std::string text;
    HistogramDecodeError expected;
  };
  std::vector<Case> cases = {
      {"not base64!", HistogramDecodeError::kInvalidBase64},
      {"", HistogramDecodeError::kTruncated},
      {"AAAAAAAAAAAA", HistogramDecodeError::kUnknownCookie},
      {encoded.substr(0, 16), HistogramDecodeError::kTruncated},
  };
  for (const Case& c : cases) {
    auto decoded = Histogram::decode_compressed_base64(c.text);
    EXPECT_FALSE(decoded.histogram.has_value()) << "input '" << c.text << "'";
    EXPECT_EQ(decoded.error, c.expected) << "input '" << c.text << "'";
  }
}

// hdr-histogram-js, an independent implementation, must read the same counts.
TEST(HdrHistogramJs, DecodesSameCounts) {
  const std::string node = NODE_BINARY;
  const std::filesystem::path script_dir = HDR_JS_DIR;
  ASSERT_FALSE(node.empty()) << "node was not found when CMake ran";
  std::filesystem::path module = script_dir / "node_modules" / "hdr-histogram-js";
  ASSERT_TRUE(std::filesystem::exists(module))
      << "hdr-histogram-js is not installed: run scripts/install-deps.sh";

  Histogram histogram;
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> latency_us(6.5, 1.5);
  for (int i = 0; i < 100'000; ++i) histogram.record(static_cast<std::int64_t>(latency_us(rng)));
  histogram.record(0, 5);
  histogram.record(3'500'000'000, 2);

  test::TempDir dir;
  std::filesystem::path input = dir.path() / "histogram.txt";
  std::filesystem::path output = dir.path() / "decoded.json";
  std::ofstream(input) << histogram.encode_compressed_base64();
  Subprocess::Options options;
  options.args = {node, (script_dir / "decode.js").string(), input.string()};
  options.stdout_mode = Subprocess::Output::kFile;
  options.stdout_path = output;
  Subprocess child(options);
  auto exit_code = child.wait_for_exit(std::chrono::seconds(30));
  ASSERT_TRUE(exit_code.has_value()) << "node did not finish within 30 s";
  ASSERT_EQ(*exit_code, 0) << "node failed";

  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load(output.string());
  EXPECT_EQ(uint64_t(root["total"]), histogram.total_count());
  EXPECT_EQ(int64_t(root["max"]), histogram.max());
  EXPECT_EQ(int64_t(root["p50"]), histogram.value_at_percentile(50.0));
  EXPECT_EQ(int64_t(root["p99"]), histogram.value_at_percentile(99.0));
  EXPECT_EQ(int64_t(root["p999"]), histogram.value_at_percentile(99.9));

  std::vector<std::pair<std::int64_t, std::uint64_t>> ours;
  histogram.for_each_bucket([&](auto low, auto, auto count) { ours.emplace_back(low, count); });
  std::vector<std::pair<std::int64_t, std::uint64_t>> theirs;
  for (simdjson::dom::element bucket : root["buckets"].get_array()) {
    theirs.emplace_back(int64_t(bucket.at(0)), uint64_t(bucket.at(1)));
  }
  EXPECT_EQ(theirs, ours);
}

}  // namespace
}  // namespace hft::report
