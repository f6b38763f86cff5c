#include "load/http_response.h"

#include <charconv>

namespace hft::load {
namespace {

bool equals_lower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

bool contains_lower(std::string_view text, std::string_view lower) {
  if (lower.size() > text.size()) return false;
  for (std::size_t i = 0; i + lower.size() <= text.size(); ++i) {
    if (equals_lower(text.substr(i, lower.size()), lower)) return true;
  }
  return false;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

ResponseHead parse_response_head(std::string_view data) {
  ResponseHead head;
  std::size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    // A status line that is already wrong need not wait for more bytes.
    if (data.size() >= 5 && data.substr(0, 5) != "HTTP/") head.result = HeadParse::kInvalid;
    return head;
  }
  head.head_size = end + 4;

  // Status line: "HTTP/1.x NNN reason".
  std::size_t line_end = data.find("\r\n");
  std::string_view status_line = data.substr(0, line_end);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
    head.result = HeadParse::kInvalid;
    return head;
  }
  auto [ptr, error] = std::from_chars(status_line.data() + 9, status_line.data() + 12, head.status);
  if (error != std::errc() || ptr != status_line.data() + 12 || head.status < 100) {
    head.result = HeadParse::kInvalid;
    return head;
  }

  bool has_length = false;
  bool chunked = false;
  std::size_t position = line_end + 2;
  while (position < end) {
    std::size_t next = data.find("\r\n", position);
    std::string_view line = data.substr(position, next - position);
    position = next + 2;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (equals_lower(name, "content-length")) {
      auto [length_end, length_error] =
          std::from_chars(value.data(), value.data() + value.size(), head.content_length);
      if (length_error != std::errc() || length_end != value.data() + value.size()) {
        head.result = HeadParse::kInvalid;
        return head;
      }
      has_length = true;
    } else if (equals_lower(name, "transfer-encoding")) {
      chunked = contains_lower(value, "chunked");
    } else if (equals_lower(name, "connection")) {
      head.connection_close = contains_lower(value, "close");
    }
  }

  bool no_body = head.status < 200 || head.status == 204 || head.status == 304;
  if (chunked) {
    head.result = HeadParse::kChunked;
  } else if (!has_length && !no_body) {
    head.result = HeadParse::kNoLength;
  } else {
    head.result = HeadParse::kComplete;
  }
  return head;
}

}  // namespace hft::load
