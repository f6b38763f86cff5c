// PostgresUrl: the address of a PostgreSQL database as
// `postgresql://user:password@host:port/database?param=value`, the form that DATABASE_URL and
// `hft serve --db` take, turned into libpq connection keywords.
//
// Plain values and a free parse function: thread-safe. Parse errors are returned as text that
// names the URL with its password replaced by "***", so the message can be logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hft::store {

inline constexpr int kDefaultPostgresPort = 5432;

struct PostgresUrl {
  std::string host;  // a name or an IPv4 address; an IPv6 address without brackets
  int port = kDefaultPostgresPort;
  std::string user;
  std::string password;  // empty: libpq looks in ~/.pgpass or uses a method without one
  std::string database;
  // Query parameters passed to libpq as keywords (sslmode, connect_timeout, application_name).
  std::vector<std::pair<std::string, std::string>> parameters;

  // The URL with the password replaced by "***", for messages and logs.
  [[nodiscard]] std::string redacted() const;
};

struct PostgresUrlResult {
  std::optional<PostgresUrl> url;
  std::string error;  // names the URL (password redacted) and what is wrong with it

  [[nodiscard]] bool ok() const { return url.has_value(); }
};

// Parses `postgresql://` and `postgres://` URLs. User, host and database are required, the port
// defaults to 5432. User, password, database and parameters may be percent-encoded. Rejects
// another scheme, a missing part, a port outside 1..65535 and a parameter without '='.
[[nodiscard]] PostgresUrlResult parse_postgres_url(std::string_view text);

}  // namespace hft::store
