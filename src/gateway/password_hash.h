// Password hashing for user accounts: Argon2id through libsodium's crypto_pwhash_str, which
// stores the salt and the cost parameters inside the returned string.
//
// Thread-safe. Each call takes tens of milliseconds and 64 MiB of memory (libsodium's
// "interactive" limits), so the server runs these on a small pool, never on an I/O thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hft::gateway {

// Returns the encoded hash, or nullopt when libsodium fails (out of memory).
[[nodiscard]] std::optional<std::string> hash_password(std::string_view password);

// True when `password` matches `encoded_hash`.
[[nodiscard]] bool verify_password(std::string_view encoded_hash, std::string_view password);

// Runs a verification against a fixed hash, so a login for an unknown user takes as long as
// one for a known user.
void burn_verify_time(std::string_view password);

}  // namespace hft::gateway
