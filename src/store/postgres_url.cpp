#include "store/postgres_url.h"

#include <fmt/format.h>

#include <charconv>

#include "common/url.h"

namespace hft::store {

namespace {

constexpr std::string_view kExpectedForm = "postgresql://user[:password]@host[:port]/database";

}  // namespace

std::string PostgresUrl::redacted() const {
  std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string text = fmt::format("postgresql://{}{}@{}:{}/{}", user, password.empty() ? "" : ":***",
                                 shown_host, port, database);
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    text += fmt::format("{}{}={}", i == 0 ? '?' : '&', parameters[i].first,
                        parameters[i].first == "password" ? "***" : parameters[i].second);
  }
  return text;
}

PostgresUrlResult parse_postgres_url(std::string_view text) {
  auto reject = [&](std::string_view reason) {
    return PostgresUrlResult{std::nullopt,
                             fmt::format("invalid PostgreSQL URL '{}': {}; expected {}",
                                         redact_url_password(text), reason, kExpectedForm)};
  };

  if (text.empty()) return reject("the URL is empty");
  std::string_view rest;
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (text.starts_with(scheme)) rest = text.substr(scheme.size());
  }
  if (rest.data() == nullptr) return reject("the scheme is not postgresql:// or postgres://");

  PostgresUrl url;
  std::size_t query_start = rest.find('?');
  std::string_view query =
      query_start == std::string_view::npos ? "" : rest.substr(query_start + 1);
  rest = rest.substr(0, query_start);

  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return reject("the database is missing");
  std::string_view authority = rest.substr(0, slash);
  auto database = percent_decode(rest.substr(slash + 1));
  if (!database) return reject("the database has an invalid % escape");
  if (database->empty()) return reject("the database is missing");
  url.database = std::move(*database);

  // The last '@' ends the user information, so a password may contain a raw '@'.
  std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return reject("the user is missing");
  std::string_view user_info = authority.substr(0, at);
  std::string_view host_port = authority.substr(at + 1);
  std::size_t colon = user_info.find(':');
  auto user = percent_decode(user_info.substr(0, colon));
  auto password = percent_decode(colon == std::string_view::npos ? std::string_view()
                                                                 : user_info.substr(colon + 1));
  if (!user || !password) return reject("the user information has an invalid % escape");
  if (user->empty()) return reject("the user is missing");
  url.user = std::move(*user);
  url.password = std::move(*password);

  std::string_view port_text;
  if (host_port.starts_with('[')) {
    std::size_t close = host_port.find(']');
    if (close == std::string_view::npos) return reject("an IPv6 host is missing its ']'");
    url.host = std::string(host_port.substr(1, close - 1));
    std::string_view after = host_port.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return reject("text follows the IPv6 host");
    port_text = after.empty() ? "" : after.substr(1);
    if (after == ":") return reject("the port is empty");
  } else {
    std::size_t port_colon = host_port.find(':');
    url.host = std::string(host_port.substr(0, port_colon));
    if (port_colon != std::string_view::npos) {
      port_text = host_port.substr(port_colon + 1);
      if (port_text.empty()) return reject("the port is empty");
    }
  }
  if (url.host.empty()) return reject("the host is missing");

  if (!port_text.empty()) {
    int port = 0;
    auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return reject(fmt::format("the port '{}' is not a number in 1..65535", port_text));
    }
    url.port = port;
  }

  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return reject(fmt::format("the parameter '{}' is not name=value", pair));
    }
    auto name = percent_decode(pair.substr(0, equals));
    auto value = percent_decode(pair.substr(equals + 1));
    if (!name || !value) return reject("a parameter has an invalid % escape");
    url.parameters.emplace_back(std::move(*name), std::move(*value));
  }
  return PostgresUrlResult{std::move(url), {}};
}

}  // namespace hft::store
