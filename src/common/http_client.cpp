#include "common/http_client.h"

#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <thread>

namespace hft {

HttpResponse http_request(const std::string& host, int port, const std::string& method,
                          const std::string& target, const std::string& body,
                          const std::map<std::string, std::string>& headers,
                          std::chrono::milliseconds timeout) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using tcp = boost::asio::ip::tcp;

  http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    HttpResponse invalid;
    invalid.error = fmt::format("invalid HTTP method '{}'", method);
    return invalid;
  }
  http::request<http::string_body> request(verb, target, 11);
  request.set(http::field::host, host);
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (headers.find("Content-Type") == headers.end()) {
      request.set(http::field::content_type, "application/json");
    }
    request.body() = body;
    request.prepare_payload();
  }

  // Asynchronous steps driven by run_for, because Beast applies stream timeouts only to
  // asynchronous operations: a blocking read from a peer that never replies would never return.
  boost::asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  HttpResponse response;
  bool done = false;
  auto fail = [&](const char* step, const beast::error_code& error) {
    response.error = fmt::format("{} {}:{} failed: {}", step, host, port, error.message());
    done = true;
  };

  stream.expires_after(timeout);
  resolver.async_resolve(
      host, std::to_string(port),
      [&](beast::error_code error, tcp::resolver::results_type results) {
        if (error) return fail("resolving", error);
        stream.async_connect(results, [&](beast::error_code error, const tcp::endpoint&) {
          if (error) return fail("connecting to", error);
          http::async_write(stream, request, [&](beast::error_code error, std::size_t) {
            if (error) return fail("sending to", error);
            http::async_read(stream, buffer, parser, [&](beast::error_code error, std::size_t) {
              if (error) return fail("reading from", error);
              done = true;
            });
          });
        });
      });
  io.run_for(timeout);

  if (!done) {
    response.error =
        fmt::format("request to {}:{} timed out after {} ms", host, port, timeout.count());
    return response;
  }
  if (!response.error.empty()) return response;

  auto& message = parser.get();
  response.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    response.headers[name] = std::string(field.value());
  }
  response.body = message.body();
  return response;
}

bool wait_for_http_ok(const std::string& host, int port, const std::string& target,
                      std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto response = http_request(host, port, "GET", target, {}, {}, std::chrono::seconds(1));
    if (response.status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace hft
