#include "journal/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace hft::journal {
namespace {

constexpr std::uint32_t kReflectedPolynomial = 0x82F63B78;

// Slicing-by-8: table[k][b] is the CRC register after byte b followed by k zero bytes.
constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() {
  std::array<std::array<std::uint32_t, 256>, 8> tables{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1U) != 0 ? (crc >> 1) ^ kReflectedPolynomial : crc >> 1;
    }
    tables[0][byte] = crc;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t byte = 0; byte < 256; ++byte) {
      const std::uint32_t previous = tables[k - 1][byte];
      tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xFFU];
    }
  }
  return tables;
}

constexpr auto kTables = make_tables();

std::uint32_t update_portable(std::uint32_t state, const unsigned char* data, std::size_t size) {
  while (size >= 8) {
    std::uint32_t low = 0;
    std::uint32_t high = 0;
    std::memcpy(&low, data, 4);
    std::memcpy(&high, data + 4, 4);
    if constexpr (std::endian::native == std::endian::big) {
      low = __builtin_bswap32(low);
      high = __builtin_bswap32(high);
    }
    low ^= state;
    state = kTables[7][low & 0xFFU] ^ kTables[6][(low >> 8) & 0xFFU] ^
            kTables[5][(low >> 16) & 0xFFU] ^ kTables[4][low >> 24] ^ kTables[3][high & 0xFFU] ^
            kTables[2][(high >> 8) & 0xFFU] ^ kTables[1][(high >> 16) & 0xFFU] ^
            kTables[0][high >> 24];
    data += 8;
    size -= 8;
  }
  while (size > 0) {
    state = (state >> 8) ^ kTables[0][(state ^ *data) & 0xFFU];
    ++data;
    --size;
  }
  return state;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t update_sse42(std::uint32_t state,
                                                             const unsigned char* data,
                                                             std::size_t size) {
  std::uint64_t wide_state = state;
  while (size >= 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, data, 8);
    wide_state = _mm_crc32_u64(wide_state, word);
    data += 8;
    size -= 8;
  }
  auto narrow_state = static_cast<std::uint32_t>(wide_state);
  while (size > 0) {
    narrow_state = _mm_crc32_u8(narrow_state, *data);
    ++data;
    --size;
  }
  return narrow_state;
}

const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

std::uint32_t crc32c_portable(std::span<const std::byte> data, std::uint32_t crc) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  return ~update_portable(~crc, bytes, data.size());
}

std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
#if defined(__x86_64__)
  if (kHasSse42) return ~update_sse42(~crc, bytes, data.size());
#endif
  return ~update_portable(~crc, bytes, data.size());
}

}  // namespace hft::journal
