// Standard Base64 (RFC 4648 alphabet, '=' padding) for the histogram encoding in result lines.
// Stateless and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hft::report {

[[nodiscard]] std::string base64_encode(const std::uint8_t* data, std::size_t size);

// Returns std::nullopt when `text` holds a character outside the alphabet or a length that no
// encoding produces. Missing trailing padding is accepted.
[[nodiscard]] std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace hft::report
