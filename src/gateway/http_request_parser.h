// HttpRequestParser: reads HTTP/1.1 requests from a connection's byte stream, one after another
// (keep-alive and pipelining), with limits on header and body size.
//
// Built on Boost.Beast's `basic_parser`, which parses in place and calls back per field, so a
// request costs no allocation once the strings in HttpRequest have grown to their usual size.
// Not thread-safe: one parser per connection. The parser owns its HttpRequest and reuses it
// for the next request after reset().
#pragma once

#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace hft::gateway {

// The parts of a request that the API reads. `body` has spare capacity after its end so that
// simdjson can parse it in place (simdjson reads up to 64 bytes past the end).
struct HttpRequest {
  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  std::string target;         // path and query, as sent
  std::string authorization;  // the Authorization header value, empty when absent
  std::string body;
  int version = 11;  // 10 for HTTP/1.0, 11 for HTTP/1.1
  bool keep_alive = true;
  bool expect_continue = false;  // "Expect: 100-continue" was sent

  [[nodiscard]] std::string_view path() const;
  [[nodiscard]] std::string_view query() const;
};

struct HttpLimits {
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
};

// A request that cannot be parsed: the HTTP status to send (400, 413 or 431), a short error
// code and a detail for the JSON error body. The connection closes after the reply.
struct HttpParseError {
  int status = 400;
  std::string_view error;
  std::string detail;
};

class HttpRequestParser {
 public:
  enum class State : std::uint8_t { kNeedMore, kHeaderDone, kComplete, kFailed };

  explicit HttpRequestParser(HttpLimits limits);
  ~HttpRequestParser();
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Feeds bytes of the stream; returns how many were consumed. Unconsumed bytes must be offered
  // again, with more appended, in the next call. After kComplete, request() is the full request
  // and the bytes after it belong to the next one: call reset() first. kHeaderDone means the
  // header is complete but the body is not (the caller may send "100 Continue").
  std::size_t feed(std::string_view bytes, State& state);

  // Prepares for the next request on the same connection.
  void reset();

  [[nodiscard]] const HttpRequest& request() const { return request_; }
  [[nodiscard]] HttpRequest& request() { return request_; }
  // Set when feed() returned kFailed.
  [[nodiscard]] const HttpParseError& error() const { return error_; }
  // True once any byte of the current request has been consumed.
  [[nodiscard]] bool started() const;

 private:
  struct Impl;

  HttpLimits limits_;
  HttpRequest request_;
  HttpParseError error_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hft::gateway
