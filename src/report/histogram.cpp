#include "report/histogram.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "report/base64.h"

namespace hft::report {
namespace {

// Layout constants derived as HdrHistogram derives them for a lowest discernible value of 1
// and 3 significant digits: 2 * 10^3 rounds up to 2^11 sub-buckets per bucket.
constexpr int kSubBucketCountMagnitude = 11;
constexpr int kSubBucketHalfCountMagnitude = kSubBucketCountMagnitude - 1;
constexpr std::int64_t kSubBucketCount = std::int64_t{1} << kSubBucketCountMagnitude;
constexpr std::int64_t kSubBucketHalfCount = kSubBucketCount / 2;
constexpr std::uint64_t kSubBucketMask = static_cast<std::uint64_t>(kSubBucketCount - 1);
constexpr int kLeadingZeroCountBase = 64 - kSubBucketHalfCountMagnitude - 1;
static_assert(kSubBucketCount >= 2 * 1000, "3 significant digits need 2000 sub-buckets");

// V2 encoding cookies: the base value with 0x10 set, the mark of ZigZag LEB128 counts.
constexpr std::uint32_t kEncodingCookie = 0x1c849303 | 0x10;
constexpr std::uint32_t kCompressedEncodingCookie = 0x1c849304 | 0x10;
constexpr std::size_t kV2HeaderSize = 40;
constexpr std::size_t kCompressedHeaderSize = 8;
// The largest histogram accepted from outside: 2^62 needs 53 buckets, about 440 KiB of counts.
constexpr std::int64_t kMaxHighestTrackableValue = std::int64_t{1} << 62;
// ZigZag LEB128 uses at most 9 bytes per count.
constexpr std::size_t kMaxBytesPerCount = 9;

std::size_t counts_length_for(std::int64_t highest_trackable_value) {
  std::int64_t smallest_untrackable = kSubBucketCount;
  std::size_t buckets = 1;
  while (smallest_untrackable <= highest_trackable_value) {
    if (smallest_untrackable > std::numeric_limits<std::int64_t>::max() / 2) {
      ++buckets;
      break;
    }
    smallest_untrackable <<= 1;
    ++buckets;
  }
  return (buckets + 1) * static_cast<std::size_t>(kSubBucketHalfCount);
}

int bucket_index_of(std::int64_t value) {
  auto bits = static_cast<std::uint64_t>(value) | kSubBucketMask;
  return kLeadingZeroCountBase - std::countl_zero(bits);
}

void put_u32_be(std::vector<std::uint8_t>& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back((value >> shift) & 0xff);
}

void put_u64_be(std::vector<std::uint8_t>& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back((value >> shift) & 0xff);
}

std::uint32_t get_u32_be(const std::uint8_t* data) {
  return (std::uint32_t{data[0]} << 24) | (std::uint32_t{data[1]} << 16) |
         (std::uint32_t{data[2]} << 8) | std::uint32_t{data[3]};
}

std::uint64_t get_u64_be(const std::uint8_t* data) {
  return (std::uint64_t{get_u32_be(data)} << 32) | get_u32_be(data + 4);
}

// ZigZag LEB128 in HdrHistogram's 9-byte variant: eight groups of 7 bits, then one byte that
// carries the top 8 bits without a continuation flag.
void put_zigzag(std::vector<std::uint8_t>& out, std::int64_t signed_value) {
  auto value = (static_cast<std::uint64_t>(signed_value) << 1) ^
               static_cast<std::uint64_t>(signed_value >> 63);
  for (int group = 0; group < 8; ++group) {
    if (value < 0x80) {
      out.push_back(static_cast<std::uint8_t>(value));
      return;
    }
    out.push_back(static_cast<std::uint8_t>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

// Reads one ZigZag LEB128 value at `position`; false when the input ends inside it.
bool get_zigzag(const std::uint8_t* data, std::size_t size, std::size_t& position,
                std::int64_t& result) {
  // Most counts are small and fit one byte.
  if (position < size && data[position] < 0x80) {
    std::uint64_t byte = data[position++];
    result = static_cast<std::int64_t>(byte >> 1) ^ -static_cast<std::int64_t>(byte & 1);
    return true;
  }
  std::uint64_t value = 0;
  int shift = 0;
  for (int group = 0; group < 9; ++group) {
    if (position >= size) return false;
    std::uint8_t byte = data[position++];
    if (group == 8) {
      value |= std::uint64_t{byte} << 56;
      break;
    }
    value |= std::uint64_t{byte & 0x7fu} << shift;
    shift += 7;
    if ((byte & 0x80) == 0) break;
  }
  result = static_cast<std::int64_t>(value >> 1) ^ -static_cast<std::int64_t>(value & 1);
  return true;
}

std::optional<std::vector<std::uint8_t>> inflate_all(const std::uint8_t* data, std::size_t size,
                                                     std::size_t max_output) {
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) return std::nullopt;

  std::vector<std::uint8_t> out(
      std::min<std::size_t>(max_output, std::max<std::size_t>(size * 4, 1024)));
  stream.next_in = const_cast<Bytef*>(data);
  stream.avail_in = static_cast<uInt>(size);
  int status = Z_OK;
  while (status == Z_OK) {
    if (stream.total_out == out.size()) {
      if (out.size() >= max_output) break;
      out.resize(std::min(max_output, out.size() * 2));
    }
    stream.next_out = out.data() + stream.total_out;
    stream.avail_out = static_cast<uInt>(out.size() - stream.total_out);
    status = inflate(&stream, Z_NO_FLUSH);
  }
  std::size_t produced = stream.total_out;
  inflateEnd(&stream);
  if (status != Z_STREAM_END) return std::nullopt;

  out.resize(produced);
  return out;
}

}  // namespace

std::string_view to_string(HistogramDecodeError error) {
  switch (error) {
    case HistogramDecodeError::kNone:
      return "no error";
    case HistogramDecodeError::kInvalidBase64:
      return "invalid Base64";
    case HistogramDecodeError::kTruncated:
      return "truncated encoding";
    case HistogramDecodeError::kUnknownCookie:
      return "not an HdrHistogram V2 compressed encoding";
    case HistogramDecodeError::kInflateFailed:
      return "zlib stream is corrupt";
    case HistogramDecodeError::kUnsupportedParameters:
      return "histogram layout differs (lowest value 1, 3 significant digits expected)";
    case HistogramDecodeError::kCorruptCounts:
      return "counts are corrupt";
  }
  return "unknown error";
}

Histogram::Histogram(std::int64_t highest_trackable_value)
    : highest_trackable_value_(std::clamp<std::int64_t>(
          highest_trackable_value, 2 * kLowestDiscernibleValue, kMaxHighestTrackableValue)),
      counts_(counts_length_for(highest_trackable_value_), 0) {}

std::size_t Histogram::index_for(std::int64_t value) const {
  int bucket_index = bucket_index_of(value);
  std::int64_t sub_bucket_index = value >> bucket_index;
  std::int64_t bucket_base = std::int64_t{bucket_index + 1} << kSubBucketHalfCountMagnitude;
  return static_cast<std::size_t>(bucket_base + sub_bucket_index - kSubBucketHalfCount);
}

std::int64_t Histogram::value_from_index(std::size_t index) const {
  auto signed_index = static_cast<std::int64_t>(index);
  std::int64_t bucket_index = (signed_index >> kSubBucketHalfCountMagnitude) - 1;
  std::int64_t sub_bucket_index = (signed_index & (kSubBucketHalfCount - 1)) + kSubBucketHalfCount;
  if (bucket_index < 0) {
    sub_bucket_index -= kSubBucketHalfCount;
    bucket_index = 0;
  }
  return sub_bucket_index << bucket_index;
}

std::int64_t Histogram::bucket_size_for(std::int64_t value) const {
  return std::int64_t{1} << bucket_index_of(value);
}

std::int64_t Histogram::lowest_equivalent_value(std::int64_t value) const {
  int bucket_index = bucket_index_of(value);
  return (value >> bucket_index) << bucket_index;
}

std::int64_t Histogram::highest_equivalent_value(std::int64_t value) const {
  return lowest_equivalent_value(value) + bucket_size_for(value) - 1;
}

void Histogram::add_at_index(std::size_t index, std::uint64_t count) {
  if (count == 0) return;

  counts_[index] += count;
  total_count_ += count;
  min_index_ = std::min(min_index_, index);
  max_index_ = std::max(max_index_, index);
}

void Histogram::record(std::int64_t value, std::uint64_t count) {
  if (value < 0) value = 0;
  if (value > highest_trackable_value_) {
    value = highest_trackable_value_;
    clamped_count_ += count;
  }
  add_at_index(index_for(value), count);
}

void Histogram::add(const Histogram& other) {
  if (other.total_count_ == 0) return;

  std::size_t shared_end = std::min(other.max_index_ + 1, counts_.size());
  for (std::size_t index = other.min_index_; index < shared_end; ++index) {
    add_at_index(index, other.counts_[index]);
  }
  // Buckets beyond this histogram's range land in its highest trackable value.
  std::size_t top_index = index_for(highest_trackable_value_);
  for (std::size_t index = shared_end; index <= other.max_index_; ++index) {
    add_at_index(top_index, other.counts_[index]);
    clamped_count_ += other.counts_[index];
  }
  clamped_count_ += other.clamped_count_;
}

void Histogram::reset() {
  if (total_count_ > 0) {
    std::fill(counts_.begin() + static_cast<std::ptrdiff_t>(min_index_),
              counts_.begin() + static_cast<std::ptrdiff_t>(max_index_) + 1, 0);
  }
  total_count_ = 0;
  clamped_count_ = 0;
  min_index_ = SIZE_MAX;
  max_index_ = 0;
}

std::int64_t Histogram::min() const {
  if (total_count_ == 0) return 0;
  return value_from_index(min_index_);
}

std::int64_t Histogram::max() const {
  if (total_count_ == 0) return 0;
  return highest_equivalent_value(value_from_index(max_index_));
}

double Histogram::mean() const {
  if (total_count_ == 0) return 0.0;

  double weighted_sum = 0.0;
  for (std::size_t index = min_index_; index <= max_index_; ++index) {
    if (counts_[index] == 0) continue;
    std::int64_t low = value_from_index(index);
    double middle = static_cast<double>(low + (bucket_size_for(low) >> 1));
    weighted_sum += middle * static_cast<double>(counts_[index]);
  }
  return weighted_sum / static_cast<double>(total_count_);
}

std::int64_t Histogram::value_at_percentile(double percentile) const {
  if (total_count_ == 0) return 0;

  double requested = std::clamp(std::isfinite(percentile) ? percentile : 100.0, 0.0, 100.0);
  // Round up, but let a count that floating point math puts one ulp too high stay exact.
  double fp_count = requested / 100.0 * static_cast<double>(total_count_);
  double ulp = std::nextafter(fp_count, std::numeric_limits<double>::infinity()) - fp_count;
  auto target = static_cast<std::uint64_t>(std::max(std::ceil(fp_count - ulp), 1.0));

  std::uint64_t running = 0;
  for (std::size_t index = min_index_; index <= max_index_; ++index) {
    running += counts_[index];
    if (running < target) continue;
    std::int64_t low = value_from_index(index);
    return requested == 0.0 ? low : highest_equivalent_value(low);
  }
  return max();
}

std::uint64_t Histogram::count_at_value(std::int64_t value) const {
  if (value < 0 || value > highest_trackable_value_) return 0;
  return counts_[index_for(value)];
}

std::vector<std::uint8_t> Histogram::encode_payload() const {
  std::vector<std::uint8_t> out;
  std::size_t counts_limit = total_count_ == 0 ? 0 : max_index_ + 1;
  out.reserve(kV2HeaderSize + counts_limit * 2);
  put_u32_be(out, kEncodingCookie);
  put_u32_be(out, 0);  // payload length, filled in below
  put_u32_be(out, 0);  // normalizing index offset
  put_u32_be(out, kSignificantDigits);
  put_u64_be(out, static_cast<std::uint64_t>(kLowestDiscernibleValue));
  put_u64_be(out, static_cast<std::uint64_t>(highest_trackable_value_));
  put_u64_be(out, std::bit_cast<std::uint64_t>(1.0));  // integer to double conversion ratio

  // A run of two or more empty buckets is written as one negative count.
  std::size_t index = 0;
  while (index < counts_limit) {
    std::uint64_t count = counts_[index++];
    if (count != 0) {
      put_zigzag(out, static_cast<std::int64_t>(count));
      continue;
    }
    std::int64_t zeros = 1;
    while (index < counts_limit && counts_[index] == 0) {
      ++zeros;
      ++index;
    }
    put_zigzag(out, zeros > 1 ? -zeros : 0);
  }

  auto payload_size = static_cast<std::uint32_t>(out.size() - kV2HeaderSize);
  for (int i = 0; i < 4; ++i) out[4 + i] = (payload_size >> (24 - 8 * i)) & 0xff;
  return out;
}

std::string Histogram::encode_compressed_base64() const {
  std::vector<std::uint8_t> payload = encode_payload();
  uLongf compressed_size = compressBound(static_cast<uLong>(payload.size()));
  std::vector<std::uint8_t> out(kCompressedHeaderSize + compressed_size);
  int status = compress2(out.data() + kCompressedHeaderSize, &compressed_size, payload.data(),
                         static_cast<uLong>(payload.size()), Z_DEFAULT_COMPRESSION);
  // With a compressBound() buffer and the default level, compress2 fails only with Z_MEM_ERROR.
  if (status != Z_OK) throw std::bad_alloc();

  out.resize(kCompressedHeaderSize + compressed_size);
  std::vector<std::uint8_t> header;
  put_u32_be(header, kCompressedEncodingCookie);
  put_u32_be(header, static_cast<std::uint32_t>(compressed_size));
  std::memcpy(out.data(), header.data(), kCompressedHeaderSize);
  return base64_encode(out.data(), out.size());
}

namespace {

struct DecodedCounts {
  std::int64_t highest_trackable_value = 0;
  // (index, count) of every non-empty bucket, in index order.
  std::vector<std::pair<std::size_t, std::uint64_t>> buckets;
};

HistogramDecodeError decode_counts(std::string_view text, DecodedCounts& decoded) {
  auto bytes = base64_decode(text);
  if (!bytes) return HistogramDecodeError::kInvalidBase64;
  if (bytes->size() < kCompressedHeaderSize) return HistogramDecodeError::kTruncated;
  if (get_u32_be(bytes->data()) != kCompressedEncodingCookie) {
    return HistogramDecodeError::kUnknownCookie;
  }

  std::size_t compressed_size = get_u32_be(bytes->data() + 4);
  if (compressed_size > bytes->size() - kCompressedHeaderSize) {
    return HistogramDecodeError::kTruncated;
  }
  std::size_t max_payload =
      kV2HeaderSize + counts_length_for(kMaxHighestTrackableValue) * kMaxBytesPerCount;
  auto payload = inflate_all(bytes->data() + kCompressedHeaderSize, compressed_size, max_payload);
  if (!payload) return HistogramDecodeError::kInflateFailed;
  if (payload->size() < kV2HeaderSize) return HistogramDecodeError::kTruncated;

  // Header: cookie, payload length, normalizing offset, digits, lowest, highest, ratio.
  const std::uint8_t* data = payload->data();
  if (get_u32_be(data) != kEncodingCookie) return HistogramDecodeError::kUnknownCookie;
  std::size_t counts_size = get_u32_be(data + 4);
  auto normalizing_offset = get_u32_be(data + 8);
  auto digits = get_u32_be(data + 12);
  auto lowest = static_cast<std::int64_t>(get_u64_be(data + 16));
  auto highest = static_cast<std::int64_t>(get_u64_be(data + 24));
  if (normalizing_offset != 0 || digits != Histogram::kSignificantDigits ||
      lowest != Histogram::kLowestDiscernibleValue || highest < 2 * lowest ||
      highest > kMaxHighestTrackableValue) {
    return HistogramDecodeError::kUnsupportedParameters;
  }
  if (counts_size > payload->size() - kV2HeaderSize) return HistogramDecodeError::kTruncated;

  decoded.highest_trackable_value = highest;
  decoded.buckets.clear();
  std::size_t counts_length = counts_length_for(highest);
  const std::uint8_t* counts = data + kV2HeaderSize;
  std::size_t position = 0;
  std::size_t index = 0;
  while (position < counts_size) {
    std::int64_t value = 0;
    if (!get_zigzag(counts, counts_size, position, value)) return HistogramDecodeError::kTruncated;
    if (value < 0) {
      // -(value + 1) cannot overflow, unlike -value for the smallest int64.
      auto zeros = static_cast<std::uint64_t>(-(value + 1)) + 1;
      if (zeros > counts_length) return HistogramDecodeError::kCorruptCounts;
      index += static_cast<std::size_t>(zeros);
      continue;
    }
    if (index >= counts_length) return HistogramDecodeError::kCorruptCounts;
    if (value > 0) decoded.buckets.emplace_back(index, static_cast<std::uint64_t>(value));
    ++index;
  }
  return HistogramDecodeError::kNone;
}

}  // namespace

HistogramDecodeResult Histogram::decode_compressed_base64(std::string_view text) {
  DecodedCounts decoded;
  HistogramDecodeError error = decode_counts(text, decoded);
  if (error != HistogramDecodeError::kNone) return {std::nullopt, error};

  Histogram histogram(decoded.highest_trackable_value);
  for (auto [index, count] : decoded.buckets) histogram.add_at_index(index, count);
  return {std::move(histogram), HistogramDecodeError::kNone};
}

HistogramDecodeError Histogram::add_compressed_base64(std::string_view text) {
  thread_local DecodedCounts decoded;
  HistogramDecodeError error = decode_counts(text, decoded);
  if (error != HistogramDecodeError::kNone) return error;

  std::size_t top_index = index_for(highest_trackable_value_);
  for (auto [index, count] : decoded.buckets) {
    if (index < counts_.size()) {
      add_at_index(index, count);
      continue;
    }
    add_at_index(top_index, count);
    clamped_count_ += count;
  }
  return HistogramDecodeError::kNone;
}

}  // namespace hft::report
