#include "common/url.h"

#include <fmt/format.h>

namespace hft {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

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

std::string redact_url_password(std::string_view text) {
  // The user information ends at the last '@' before the path or query, so a password that
  // contains an unescaped '@' is still hidden whole.
  std::size_t scheme_end = text.find("://");
  std::size_t authority_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  std::size_t authority_end = text.find_first_of("/?", authority_start);
  std::size_t at = text.rfind('@', authority_end);
  if (at == std::string_view::npos || at < authority_start) return std::string(text);

  std::size_t colon = text.find(':', authority_start);
  if (colon == std::string_view::npos || colon > at) return std::string(text);
  return fmt::format("{}***{}", text.substr(0, colon + 1), text.substr(at));
}

}  // namespace hft
