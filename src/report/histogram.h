// Histogram: a latency histogram with the bucket layout of HdrHistogram (lowest discernible value
// 1, 3 significant decimal digits), so that its V2 compressed Base64 encoding is read by
// HdrHistogram tools and histograms of many clients merge exactly.
//
// Memory is fixed at construction by the highest trackable value (about 190 KiB for the default
// of one hour in microseconds) and does not grow with the number of recorded values. A value
// above the highest trackable value is recorded as that value and counted in `clamped_count()`;
// a negative value is recorded as 0.
//
// Not thread-safe: one thread records into each object. Decoding reports malformed input as a
// `HistogramDecodeError`; nothing throws except std::bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hft::report {

enum class HistogramDecodeError {
  kNone,
  kInvalidBase64,
  kTruncated,
  kUnknownCookie,
  kInflateFailed,
  kUnsupportedParameters,
  kCorruptCounts,
};

[[nodiscard]] std::string_view to_string(HistogramDecodeError error);

struct HistogramDecodeResult;

class Histogram {
 public:
  static constexpr int kSignificantDigits = 3;
  static constexpr std::int64_t kLowestDiscernibleValue = 1;
  // One hour in microseconds.
  static constexpr std::int64_t kDefaultHighestTrackableValue = 3'600'000'000;

  explicit Histogram(std::int64_t highest_trackable_value = kDefaultHighestTrackableValue);

  void record(std::int64_t value, std::uint64_t count = 1);

  // Adds every count of `other`. Both histograms share one bucket layout, so the merge is exact
  // except for values above this histogram's highest trackable value, which are clamped and
  // counted in `clamped_count()`.
  void add(const Histogram& other);

  void reset();

  [[nodiscard]] std::uint64_t total_count() const { return total_count_; }
  [[nodiscard]] std::uint64_t clamped_count() const { return clamped_count_; }
  [[nodiscard]] std::int64_t highest_trackable_value() const { return highest_trackable_value_; }

  // The smallest and largest recorded values, rounded as HdrHistogram rounds them: `min()` to
  // the lowest value of its bucket, `max()` to the highest. Both are 0 when empty.
  [[nodiscard]] std::int64_t min() const;
  [[nodiscard]] std::int64_t max() const;

  // Mean of the recorded values, each taken at the middle of its bucket; 0 when empty.
  [[nodiscard]] double mean() const;

  // The value at `percentile` (0 to 100): the highest value of the first bucket at which the
  // running count reaches percentile/100 of the total count, rounded up. 0 when empty.
  [[nodiscard]] std::int64_t value_at_percentile(double percentile) const;

  // Number of recorded values that share the bucket of `value`.
  [[nodiscard]] std::uint64_t count_at_value(std::int64_t value) const;

  // Bucket arithmetic, exposed for tests and for callers that print the distribution.
  [[nodiscard]] std::int64_t lowest_equivalent_value(std::int64_t value) const;
  [[nodiscard]] std::int64_t highest_equivalent_value(std::int64_t value) const;

  // Calls `visit(lowest_value, highest_value, count)` for every non-empty bucket, in order.
  template <typename Visitor>
  void for_each_bucket(Visitor&& visit) const {
    for (std::size_t index = 0; index <= max_index_ && index < counts_.size(); ++index) {
      if (counts_[index] == 0) continue;
      std::int64_t low = value_from_index(index);
      visit(low, highest_equivalent_value(low), counts_[index]);
    }
  }

  // The HdrHistogram V2 compressed encoding (cookie 0x1c849314, the length of the zlib stream,
  // the zlib-deflated V2 payload with ZigZag LEB128 counts), in standard Base64 with padding.
  [[nodiscard]] std::string encode_compressed_base64() const;

  // Reads the encoding written by `encode_compressed_base64` or by HdrHistogram's
  // encodeIntoCompressedByteBuffer. Only the layout used here (lowest discernible value 1,
  // 3 significant digits) is accepted, because any other one cannot be merged exactly.
  [[nodiscard]] static HistogramDecodeResult decode_compressed_base64(std::string_view text);

  // Decodes the same encoding and adds its counts to this histogram, without allocating a
  // histogram per call; counts above this histogram's range are clamped. On an error nothing
  // has been added.
  [[nodiscard]] HistogramDecodeError add_compressed_base64(std::string_view text);

 private:
  [[nodiscard]] std::size_t index_for(std::int64_t value) const;
  [[nodiscard]] std::int64_t value_from_index(std::size_t index) const;
  [[nodiscard]] std::int64_t bucket_size_for(std::int64_t value) const;
  void add_at_index(std::size_t index, std::uint64_t count);
  [[nodiscard]] std::vector<std::uint8_t> encode_payload() const;

  std::int64_t highest_trackable_value_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_count_ = 0;
  std::uint64_t clamped_count_ = 0;
  std::size_t min_index_ = SIZE_MAX;
  std::size_t max_index_ = 0;
};

struct HistogramDecodeResult {
  std::optional<Histogram> histogram;
  HistogramDecodeError error = HistogramDecodeError::kNone;
};

}  // namespace hft::report
