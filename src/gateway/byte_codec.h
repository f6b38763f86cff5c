// ByteWriter and ByteReader: the binary encoding shared by the journal's command records and the
// engine's state stream entries. Integers are copied as their little-endian bytes, strings are
// prefixed by their length as a 16-bit integer.
//
// Plain values on the stack of one encode or decode call: not thread-safe, and they borrow the
// buffer they write or read, which must outlive them. A reader checks every length against what
// is left and reports a short payload as false, never reading past its end.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

namespace hft::gateway {

static_assert(std::endian::native == std::endian::little,
              "the binary encoding copies integers as little-endian bytes");

// `Buffer` is std::string or std::vector<std::byte>.
template <typename Buffer>
class ByteWriter {
 public:
  // Clears `out` and appends to it from then on.
  explicit ByteWriter(Buffer& out) : out_(out) { out_.clear(); }

  template <typename Integer>
  void integer(Integer value) {
    static_assert(std::is_integral_v<Integer>);
    append(&value, sizeof(value));
  }

  // A string of at most 65535 bytes, prefixed by its length; longer text is cut.
  void text(std::string_view value) {
    const std::size_t size = std::min<std::size_t>(value.size(), 0xffff);
    integer(static_cast<std::uint16_t>(size));
    append(value.data(), size);
  }

 private:
  void append(const void* bytes, std::size_t size) {
    const std::size_t offset = out_.size();
    out_.resize(offset + size);
    std::memcpy(out_.data() + offset, bytes, size);
  }

  Buffer& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> payload)
      : payload_(reinterpret_cast<const char*>(payload.data()), payload.size()) {}
  explicit ByteReader(std::string_view payload) : payload_(payload) {}

  template <typename Integer>
  [[nodiscard]] bool integer(Integer& value) {
    if (payload_.size() - offset_ < sizeof(value)) return false;
    std::memcpy(&value, payload_.data() + offset_, sizeof(value));
    offset_ += sizeof(value);
    return true;
  }

  // An enumerator stored as one byte; values past `last` are rejected.
  template <typename Enum>
  [[nodiscard]] bool enumeration(Enum& value, Enum last) {
    std::uint8_t raw = 0;
    if (!integer(raw) || raw > static_cast<std::uint8_t>(last)) return false;
    value = static_cast<Enum>(raw);
    return true;
  }

  [[nodiscard]] bool text(std::string_view& value) {
    std::uint16_t size = 0;
    if (!integer(size) || payload_.size() - offset_ < size) return false;
    value = payload_.substr(offset_, size);
    offset_ += size;
    return true;
  }

  // A count of records, rejected when the rest of the payload cannot hold that many records of
  // at least `min_record_bytes`, so a corrupt count cannot reserve huge vectors.
  [[nodiscard]] bool count(std::uint32_t& value, std::size_t min_record_bytes) {
    if (!integer(value)) return false;
    return value <= (payload_.size() - offset_) / min_record_bytes;
  }

  [[nodiscard]] bool at_end() const { return offset_ == payload_.size(); }

 private:
  std::string_view payload_;
  std::size_t offset_ = 0;
};

}  // namespace hft::gateway
