#include "redis/redis_url.h"

#include <fmt/format.h>

#include <charconv>

#include "common/url.h"

namespace hft::redis {

namespace {

constexpr std::string_view kScheme = "redis://";
constexpr std::string_view kExpectedForm = "redis://[[user]:password@]host[:port][/db]";

// Parses a whole decimal number in [min, max].
std::optional<int> parse_int(std::string_view text, int min, int max) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

}  // namespace

std::string redact_url(std::string_view text) { return redact_url_password(text); }

std::string RedisUrl::redacted() const {
  std::string credentials;
  if (!username.empty() || !password.empty()) {
    credentials = username + (password.empty() ? "" : ":***") + "@";
  }
  std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format("redis://{}{}:{}/{}", credentials, shown_host, port, database);
}

RedisUrlResult parse_redis_url(std::string_view text) {
  auto reject = [&](std::string_view reason) {
    return RedisUrlResult{std::nullopt, fmt::format("invalid Redis URL '{}': {}; expected {}",
                                                    redact_url(text), reason, kExpectedForm)};
  };

  if (text.empty()) return reject("the URL is empty");
  if (!text.starts_with(kScheme)) return reject("the scheme is not redis://");
  if (text.find_first_of("?#") != std::string_view::npos) {
    return reject("query strings and fragments are not supported");
  }

  RedisUrl url;
  std::string_view rest = text.substr(kScheme.size());
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);

  // The last '@' ends the user information, so a password may contain a raw '@'.
  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view user_info = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::size_t colon = user_info.find(':');
    auto username = percent_decode(user_info.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? std::string_view()
                                                                   : user_info.substr(colon + 1));
    if (!username || !password) return reject("the user information has an invalid % escape");
    url.username = std::move(*username);
    url.password = std::move(*password);
  }

  std::string_view port_text;
  if (authority.starts_with('[')) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return reject("an IPv6 host is missing its ']'");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return reject("text follows the IPv6 host");
    if (!after.empty()) port_text = after.substr(1);
    if (after == ":") return reject("the port is empty");
  } else {
    std::size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return reject("the port is empty");
    }
  }
  if (url.host.empty()) return reject("the host is empty");

  if (!port_text.empty()) {
    auto port = parse_int(port_text, 1, 65535);
    if (!port) return reject(fmt::format("the port '{}' is not a number in 1..65535", port_text));
    url.port = *port;
  }

  if (!path.empty()) {
    auto database = parse_int(path, 0, 65535);
    if (!database) {
      return reject(fmt::format("the database '{}' is not a number in 0..65535", path));
    }
    url.database = *database;
  }
  return RedisUrlResult{std::move(url), {}};
}

}  // namespace hft::redis
