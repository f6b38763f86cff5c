// Encoding and validation of journal records in memory, shared by the writer, the replay and the
// fuzz target. The layout is documented in journal/journal.h.
//
// Pure functions over caller-owned bytes; safe from any thread. The scanner reads only inside
// the span it is given, whatever the bytes contain.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "journal/journal.h"

namespace hft::journal {

namespace record_offset {
inline constexpr std::size_t kMagic = 0;
inline constexpr std::size_t kPayloadSize = 4;
inline constexpr std::size_t kSequence = 8;
inline constexpr std::size_t kType = 16;
inline constexpr std::size_t kReserved = 18;
inline constexpr std::size_t kCrc = 20;
}  // namespace record_offset

static_assert(record_offset::kCrc + sizeof(std::uint32_t) == kRecordHeaderBytes,
              "the CRC is the last header field");
static_assert(kRecordHeaderBytes % 8 == 0, "headers keep 8-byte payload alignment in a buffer");
static_assert(kMaxPayloadBytes <= UINT32_MAX - kRecordHeaderBytes,
              "a record's total size fits in 32 bits");

// Appends one encoded record to `out`. `payload.size()` must be at most kMaxPayloadBytes.
void encode_record(std::vector<std::byte>& out, std::uint64_t sequence, std::uint16_t type,
                   std::span<const std::byte> payload);

// Reads the payload size field of the record starting at `record`, which must hold a header.
[[nodiscard]] std::uint32_t encoded_payload_size(std::span<const std::byte> record);

// The record at an offset: whole, with a matching checksum, or why not.
struct RecordCheck {
  bool valid = false;
  Record record;
  std::size_t total_bytes = 0;
  // The reason the bytes are no record ("checksum mismatch", ...), empty when valid.
  std::string problem;
};

[[nodiscard]] RecordCheck check_record(std::span<const std::byte> bytes, std::size_t offset);

// Returns the offset of the first valid record that starts at or after `from`.
[[nodiscard]] std::optional<std::size_t> find_valid_record(std::span<const std::byte> bytes,
                                                           std::size_t from);

enum class ScanEnd {
  kClean,          // every byte belongs to a valid record
  kInvalidTail,    // an invalid record with no valid record after it in this span
  kCorruptMiddle,  // an invalid record followed by a valid one
  kSequenceGap,    // a valid record whose sequence does not follow its predecessor
};

struct SegmentScan {
  ScanEnd end = ScanEnd::kClean;
  std::uint64_t records = 0;
  std::uint64_t last_sequence = 0;
  // Bytes from the start that hold valid records; the offset of the fault when not clean.
  std::size_t valid_bytes = 0;
  // The first valid record after the fault, for kCorruptMiddle.
  std::size_t next_valid_offset = 0;
  // The fault at valid_bytes, empty when clean.
  std::string problem;
};

// Validates the records in `bytes` in order and calls `on_record` (when not empty) for each
// valid one before the first fault. `expected_sequence` is the sequence the first record must
// carry, or 0 to accept any.
[[nodiscard]] SegmentScan scan_segment(std::span<const std::byte> bytes,
                                       std::uint64_t expected_sequence,
                                       const std::function<void(const Record&)>& on_record);

}  // namespace hft::journal
