// RedisUrl: the address of a Redis server as `redis://[[user]:password@]host[:port][/db]`, the
// form that REDIS_URL and `hft serve --queue` take.
//
// Plain values and a free parse function: thread-safe. Parse errors are returned as text that
// names the URL with its password replaced by "***", so the message can be logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hft::redis {

inline constexpr int kDefaultRedisPort = 6379;

struct RedisUrl {
  std::string host;  // a name, an IPv4 address or an IPv6 address without brackets
  int port = kDefaultRedisPort;
  int database = 0;      // the SELECT index
  std::string username;  // an ACL user (Redis 6+); empty for the default user
  std::string password;  // empty: no AUTH

  // The URL with the password replaced by "***", for messages and logs.
  [[nodiscard]] std::string redacted() const;
};

// A parsed URL, or the reason it was rejected.
struct RedisUrlResult {
  std::optional<RedisUrl> url;
  std::string error;  // names the URL (password redacted) and what is wrong with it

  [[nodiscard]] bool ok() const { return url.has_value(); }
};

// Parses `redis://host:port/db`, `redis://:password@host:port/db` and
// `redis://user:password@host:port/db`. The port defaults to 6379 and the database to 0; user and
// password may be percent-encoded. Rejects another scheme, an empty host, a port outside
// 1..65535, a database that is not a number in 0..65535 and a query string or fragment.
[[nodiscard]] RedisUrlResult parse_redis_url(std::string_view text);

// `text` with the password part of its user information replaced by "***", also for text that
// does not parse.
[[nodiscard]] std::string redact_url(std::string_view text);

}  // namespace hft::redis
