#include "gateway/token_signer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace hft::gateway {

namespace {

constexpr std::size_t kMacHexChars = 2 * crypto_auth_hmacsha256_BYTES;

std::string errno_text() { return std::strerror(errno); }

bool read_exact(int fd, unsigned char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool write_exact(int fd, const unsigned char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void compute_mac(const std::array<unsigned char, TokenSigner::kKeyBytes>& key,
                 std::string_view claims, unsigned char (&mac)[crypto_auth_hmacsha256_BYTES]) {
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(claims.data()), claims.size(),
                         key.data());
}

template <typename Integer>
bool parse_integer(std::string_view text, Integer& value) {
  if (text.empty() || text.size() > 20) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::optional<TokenSigner> TokenSigner::load_or_create(const std::filesystem::path& path,
                                                       std::string& error) {
  if (sodium_init() < 0) {
    error = "libsodium initialisation failed";
    return std::nullopt;
  }

  std::array<unsigned char, kKeyBytes> key{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat info {};
    bool ok = ::fstat(fd, &info) == 0 && info.st_size == static_cast<off_t>(kKeyBytes) &&
              read_exact(fd, key.data(), key.size());
    ::close(fd);
    if (!ok) {
      error = fmt::format(
          "token key {}: expected exactly {} bytes; delete it to create a new "
          "key (this invalidates every issued token)",
          path.string(), kKeyBytes);
      return std::nullopt;
    }
    return TokenSigner(key);
  }
  if (errno != ENOENT) {
    error = fmt::format("token key {}: open failed: {}", path.string(), errno_text());
    return std::nullopt;
  }

  // Create the file under a temporary name and rename it, so a crash never leaves a short key.
  randombytes_buf(key.data(), key.size());
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = fmt::format("token key {}: create failed: {}", temporary.string(), errno_text());
    return std::nullopt;
  }
  bool written = write_exact(fd, key.data(), key.size()) && ::fsync(fd) == 0;
  std::string write_error = written ? "" : errno_text();
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    error = fmt::format("token key {}: write failed: {}", path.string(),
                        written ? errno_text() : write_error);
    return std::nullopt;
  }
  return TokenSigner(key);
}

std::string TokenSigner::issue(std::uint64_t user_id, std::int64_t expires_unix_s) const {
  std::string token = fmt::format("{}.{}", user_id, expires_unix_s);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  compute_mac(key_, token, mac);

  char hex[kMacHexChars + 1];
  sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
  token += '.';
  token.append(hex, kMacHexChars);
  return token;
}

TokenSigner::Outcome TokenSigner::verify(std::string_view token, std::int64_t now_unix_s,
                                         Claims& claims) const {
  auto first_dot = token.find('.');
  auto last_dot = token.rfind('.');
  if (first_dot == std::string_view::npos || first_dot == last_dot) return Outcome::kMalformed;

  std::string_view signed_part = token.substr(0, last_dot);
  std::string_view mac_hex = token.substr(last_dot + 1);
  if (mac_hex.size() != kMacHexChars) return Outcome::kMalformed;
  if (!parse_integer(token.substr(0, first_dot), claims.user_id)) return Outcome::kMalformed;
  if (!parse_integer(signed_part.substr(first_dot + 1), claims.expires_unix_s)) {
    return Outcome::kMalformed;
  }

  unsigned char given[crypto_auth_hmacsha256_BYTES];
  for (std::size_t i = 0; i < sizeof(given); ++i) {
    int high = hex_value(mac_hex[2 * i]);
    int low = hex_value(mac_hex[2 * i + 1]);
    if (high < 0 || low < 0) return Outcome::kMalformed;
    given[i] = static_cast<unsigned char>(high * 16 + low);
  }

  unsigned char expected[crypto_auth_hmacsha256_BYTES];
  compute_mac(key_, signed_part, expected);
  if (crypto_verify_32(given, expected) != 0) return Outcome::kBadSignature;
  if (claims.expires_unix_s <= now_unix_s) return Outcome::kExpired;
  return Outcome::kValid;
}

}  // namespace hft::gateway
