// Helpers for the connection URLs of Redis and PostgreSQL: percent-decoding of the user
// information and path, and a form of a URL that is safe to log. Stateless and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace hft {

// Decodes %XX escapes. Returns nullopt for a truncated or non-hex escape.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text);

// Returns `text` with the password of its user information ("scheme://user:PASSWORD@host")
// replaced by "***", for error messages and logs. Text without a password is returned unchanged.
[[nodiscard]] std::string redact_url_password(std::string_view text);

}  // namespace hft
