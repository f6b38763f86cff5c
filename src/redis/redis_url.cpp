#include "redis/redis_url.h"

#include <fmt/format.h>

#include <charconv>

namespace hft::redis {

namespace {

constexpr std::string_view kScheme = "redis://";
constexpr std::string_view kExpectedForm = "redis://[[user]:password@]host[:port][/db]";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; nullopt for a truncated or non-hex escape.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int high = hex_value(text[i + 1]);
    int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

// Parses a whole decimal number in [min, max].
std::optional<int> parse_int(std::string_view text, int min, int max) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

}  // namespace

std::string redact_url(std::string_view text) {
  std::size_t scheme_end = text.find("://");
  std::size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  std::size_t at = text.find('@', authority_start);
  if (at == std::string_view::npos) return std::string(text);

  std::size_t colon = text.find(':', authority_start);
  if (colon == std::string_view::npos || colon > at) return std::string(text);
  return fmt::format("{}***{}", text.substr(0, colon + 1), text.substr(at));
}

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
