// A blocking HTTP/1.1 client for one request at a time: health checks in `hft run` and the test
// suites. Not for load: `hft load` has its own pipelined client.
//
// Thread-safe: every call uses its own connection. Failures never throw; they come back as
// status 0 with the reason in `error`.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace hft {

struct HttpResponse {
  int status = 0;  // 0 when the request failed before a status line arrived
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string error;  // why the request failed, when status == 0
};

// Sends one request to `host`:`port` on a new connection and reads the whole reply.
HttpResponse http_request(const std::string& host, int port, const std::string& method,
                          const std::string& target, const std::string& body = {},
                          const std::map<std::string, std::string>& headers = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Polls GET `target` until it returns 200 or `timeout` passes. Returns whether it returned 200.
bool wait_for_http_ok(const std::string& host, int port, const std::string& target,
                      std::chrono::milliseconds timeout);

}  // namespace hft
