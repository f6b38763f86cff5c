// TokenSigner: issues and verifies the bearer tokens of the API.
//
// A token is "<user_id>.<expires_unix_s>.<mac>", where mac is the hex HMAC-SHA256 of
// "<user_id>.<expires_unix_s>" under a 32-byte secret key. The key lives in
// `<data-dir>/token.key` (mode 0600), created from the system's random source at the first
// start, so tokens stay valid across restarts and cannot be forged without the file.
//
// Thread-safe after construction: issue() and verify() only read the key. Errors loading or
// creating the key file are returned as text by load_or_create().
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace hft::gateway {

class TokenSigner {
 public:
  static constexpr std::size_t kKeyBytes = 32;

  // Reads the key from `path`, or creates the file with a fresh random key when it does not
  // exist. Returns nullopt and sets `error` (path and reason) on failure, including a file of
  // the wrong size.
  [[nodiscard]] static std::optional<TokenSigner> load_or_create(const std::filesystem::path& path,
                                                                 std::string& error);

  explicit TokenSigner(const std::array<unsigned char, kKeyBytes>& key) : key_(key) {}

  [[nodiscard]] std::string issue(std::uint64_t user_id, std::int64_t expires_unix_s) const;

  struct Claims {
    std::uint64_t user_id = 0;
    std::int64_t expires_unix_s = 0;
  };

  enum class Outcome : std::uint8_t { kValid, kMalformed, kBadSignature, kExpired };

  // Checks the token's form, its MAC (compared in constant time) and its expiry at `now_unix_s`.
  [[nodiscard]] Outcome verify(std::string_view token, std::int64_t now_unix_s,
                               Claims& claims) const;

 private:
  std::array<unsigned char, kKeyBytes> key_;
};

}  // namespace hft::gateway
