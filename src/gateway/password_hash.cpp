#include "gateway/password_hash.h"

#include <sodium.h>

namespace hft::gateway {

std::optional<std::string> hash_password(std::string_view password) {
  char encoded[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(encoded, password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return std::nullopt;
  }
  return std::string(encoded);
}

bool verify_password(std::string_view encoded_hash, std::string_view password) {
  // crypto_pwhash_str_verify reads a NUL-terminated string.
  std::string terminated(encoded_hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

void burn_verify_time(std::string_view password) {
  static const std::optional<std::string> kDummy = hash_password("not a real password");
  if (kDummy) (void)verify_password(*kDummy, password);
}

}  // namespace hft::gateway
