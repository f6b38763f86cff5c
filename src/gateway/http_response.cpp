#include "gateway/http_response.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <ctime>
#include <iterator>

#include "common/json_writer.h"

namespace hft::gateway {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

void append_reply(std::string& out, int status, std::string_view body, std::string_view date,
                  const ReplyOptions& options) {
  auto sink = std::back_inserter(out);
  fmt::format_to(sink,
                 FMT_COMPILE("HTTP/1.1 {} {}\r\nServer: hft\r\nDate: {}\r\n"
                             "Content-Type: {}\r\nContent-Length: {}\r\n"),
                 status, reason_phrase(status), date, options.content_type, body.size());
  if (!options.keep_alive) out += "Connection: close\r\n";
  if (options.retry_after_s > 0) fmt::format_to(sink, "Retry-After: {}\r\n", options.retry_after_s);
  out += "\r\n";
  out += body;
}

void append_error_reply(std::string& out, int status, std::string_view error,
                        std::string_view detail, std::string_view date,
                        const ReplyOptions& options) {
  std::string body;
  body.reserve(32 + error.size() + detail.size());
  body += "{\"error\":";
  JsonWriter::append_quoted(body, error);
  body += ",\"detail\":";
  JsonWriter::append_quoted(body, detail);
  body += '}';
  append_reply(out, status, body, date, options);
}

std::string http_date(long long unix_s) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t time = static_cast<std::time_t>(unix_s);
  std::tm utc{};
  gmtime_r(&time, &utc);
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} GMT", kDays[utc.tm_wday], utc.tm_mday,
                     kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min, utc.tm_sec);
}

}  // namespace hft::gateway
