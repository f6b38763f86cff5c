// Formatting of HTTP/1.1 replies straight into a connection's output buffer.
//
// Free functions, thread-safe. The caller owns the buffer; each function appends one whole
// reply (status line, headers, body), so pipelined replies queue up back to back and leave in
// one write.
#pragma once

#include <string>
#include <string_view>

namespace hft::gateway {

// The reason phrase of a status code ("Created" for 201), "Unknown" for codes the API never
// sends.
[[nodiscard]] std::string_view reason_phrase(int status);

struct ReplyOptions {
  explicit ReplyOptions(bool keep_alive_value = true, int retry_after_value_s = 0)
      : keep_alive(keep_alive_value), retry_after_s(retry_after_value_s) {}

  bool keep_alive = true;
  // Seconds for a Retry-After header; 0 sends none.
  int retry_after_s = 0;
  std::string_view content_type = "application/json";
};

// Appends a reply with `body` and a Content-Length header. `date` is the value of the Date
// header (an IMF-fixdate that the caller refreshes once a second).
void append_reply(std::string& out, int status, std::string_view body, std::string_view date,
                  const ReplyOptions& options = ReplyOptions());

// Appends a JSON error reply {"error": error, "detail": detail}.
void append_error_reply(std::string& out, int status, std::string_view error,
                        std::string_view detail, std::string_view date,
                        const ReplyOptions& options = ReplyOptions());

// Formats `unix_s` as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT").
[[nodiscard]] std::string http_date(long long unix_s);

}  // namespace hft::gateway
