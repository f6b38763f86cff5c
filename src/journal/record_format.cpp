#include "journal/record_format.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>

#include "journal/crc32c.h"

namespace hft::journal {
namespace {

template <typename T>
void store_le(std::byte* out, T value) {
  if constexpr (std::endian::native == std::endian::big) {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      out[i] = static_cast<std::byte>((value >> (8 * i)) & 0xFFU);
    }
  } else {
    std::memcpy(out, &value, sizeof(T));
  }
}

template <typename T>
T load_le(const std::byte* in) {
  T value = 0;
  if constexpr (std::endian::native == std::endian::big) {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      value |= static_cast<T>(static_cast<T>(in[i]) << (8 * i));
    }
  } else {
    std::memcpy(&value, in, sizeof(T));
  }
  return value;
}

std::uint32_t record_crc(std::span<const std::byte> header, std::span<const std::byte> payload) {
  return crc32c(payload, crc32c(header.first(record_offset::kCrc)));
}

}  // namespace

void encode_record(std::vector<std::byte>& out, std::uint64_t sequence, std::uint16_t type,
                   std::span<const std::byte> payload) {
  const std::size_t start = out.size();
  out.resize(start + kRecordHeaderBytes + payload.size());
  std::byte* header = out.data() + start;
  store_le<std::uint32_t>(header + record_offset::kMagic, kRecordMagic);
  store_le<std::uint32_t>(header + record_offset::kPayloadSize,
                          static_cast<std::uint32_t>(payload.size()));
  store_le<std::uint64_t>(header + record_offset::kSequence, sequence);
  store_le<std::uint16_t>(header + record_offset::kType, type);
  store_le<std::uint16_t>(header + record_offset::kReserved, 0);
  if (!payload.empty()) std::memcpy(header + kRecordHeaderBytes, payload.data(), payload.size());

  const std::span<const std::byte> header_bytes(header, kRecordHeaderBytes);
  const std::span<const std::byte> payload_bytes(header + kRecordHeaderBytes, payload.size());
  store_le<std::uint32_t>(header + record_offset::kCrc, record_crc(header_bytes, payload_bytes));
}

std::uint32_t encoded_payload_size(std::span<const std::byte> record) {
  return load_le<std::uint32_t>(record.data() + record_offset::kPayloadSize);
}

RecordCheck check_record(std::span<const std::byte> bytes, std::size_t offset) {
  RecordCheck check;
  const std::size_t available = offset <= bytes.size() ? bytes.size() - offset : 0;
  if (available < kRecordHeaderBytes) {
    check.problem =
        fmt::format("incomplete header ({} of {} bytes)", available, kRecordHeaderBytes);
    return check;
  }

  const std::span<const std::byte> header = bytes.subspan(offset, kRecordHeaderBytes);
  const auto magic = load_le<std::uint32_t>(header.data() + record_offset::kMagic);
  if (magic != kRecordMagic) {
    check.problem = fmt::format("invalid magic 0x{:08x}", magic);
    return check;
  }

  const auto payload_size = load_le<std::uint32_t>(header.data() + record_offset::kPayloadSize);
  if (payload_size > kMaxPayloadBytes) {
    check.problem =
        fmt::format("payload size {} exceeds the maximum {}", payload_size, kMaxPayloadBytes);
    return check;
  }
  if (available - kRecordHeaderBytes < payload_size) {
    check.problem = fmt::format("incomplete payload ({} of {} bytes)",
                                available - kRecordHeaderBytes, payload_size);
    return check;
  }

  // The checksum covers the reserved field, so a nonzero one always fails it as well.
  const std::span<const std::byte> payload =
      bytes.subspan(offset + kRecordHeaderBytes, payload_size);
  const auto stored_crc = load_le<std::uint32_t>(header.data() + record_offset::kCrc);
  const std::uint32_t computed_crc = record_crc(header, payload);
  if (stored_crc != computed_crc) {
    check.problem = fmt::format("checksum mismatch (stored 0x{:08x}, computed 0x{:08x})",
                                stored_crc, computed_crc);
    return check;
  }
  if (load_le<std::uint16_t>(header.data() + record_offset::kReserved) != 0) {
    check.problem = "nonzero reserved field";
    return check;
  }

  check.valid = true;
  check.total_bytes = kRecordHeaderBytes + payload_size;
  check.record.sequence = load_le<std::uint64_t>(header.data() + record_offset::kSequence);
  check.record.type = load_le<std::uint16_t>(header.data() + record_offset::kType);
  check.record.payload = payload;
  return check;
}

std::optional<std::size_t> find_valid_record(std::span<const std::byte> bytes, std::size_t from) {
  std::byte magic[4];
  store_le<std::uint32_t>(magic, kRecordMagic);

  // Only offsets that start with the magic can hold a record, so the checksum runs rarely.
  for (std::size_t offset = from; offset + kRecordHeaderBytes <= bytes.size(); ++offset) {
    if (std::memcmp(bytes.data() + offset, magic, sizeof(magic)) != 0) continue;
    if (check_record(bytes, offset).valid) return offset;
  }
  return std::nullopt;
}

SegmentScan scan_segment(std::span<const std::byte> bytes, std::uint64_t expected_sequence,
                         const std::function<void(const Record&)>& on_record) {
  SegmentScan scan;
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    RecordCheck check = check_record(bytes, offset);
    if (!check.valid) {
      scan.valid_bytes = offset;
      scan.problem = std::move(check.problem);
      const std::optional<std::size_t> next = find_valid_record(bytes, offset + 1);
      if (next.has_value()) {
        scan.end = ScanEnd::kCorruptMiddle;
        scan.next_valid_offset = *next;
      } else {
        scan.end = ScanEnd::kInvalidTail;
      }
      return scan;
    }

    const bool unexpected = expected_sequence != 0 && check.record.sequence != expected_sequence;
    if (unexpected || check.record.sequence == 0) {
      scan.end = ScanEnd::kSequenceGap;
      scan.valid_bytes = offset;
      scan.problem = fmt::format("sequence {} where {} was expected", check.record.sequence,
                                 expected_sequence == 0 ? 1 : expected_sequence);
      return scan;
    }

    if (on_record) on_record(check.record);
    ++scan.records;
    scan.last_sequence = check.record.sequence;
    expected_sequence = check.record.sequence + 1;
    offset += check.total_bytes;
  }
  scan.valid_bytes = offset;
  return scan;
}

}  // namespace hft::journal
