// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of journal records.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it and a slicing-by-8 table otherwise; both
// give the same values. Pure functions, safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace hft::journal {

// Extends the finished checksum `crc` of earlier bytes by `data`, like zlib's crc32(): start
// with 0, and crc32c(b, crc32c(a)) equals the checksum of a followed by b.
[[nodiscard]] std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc = 0);

// The table implementation, exposed so tests can compare it with the hardware one.
[[nodiscard]] std::uint32_t crc32c_portable(std::span<const std::byte> data, std::uint32_t crc = 0);

}  // namespace hft::journal
