// KeepAliveClient: a blocking HTTP/1.1 client on one persistent connection to 127.0.0.1, for
// tests that need keep-alive, pipelining, raw bytes or many requests per second.
//
// Not thread-safe: one client per thread. Every read has a timeout (SO_RCVTIMEO), so a server
// that stops replying fails the test instead of hanging it.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hft::gateway::test {

struct Reply {
  int status = 0;                              // 0 when the connection failed or timed out
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

class KeepAliveClient {
 public:
  explicit KeepAliveClient(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~KeepAliveClient();
  KeepAliveClient(const KeepAliveClient&) = delete;
  KeepAliveClient& operator=(const KeepAliveClient&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }

  // Sends one request and reads its reply.
  Reply request(const std::string& method, const std::string& target, const std::string& body = {},
                const std::string& token = {});

  // Sends bytes as they are, for pipelining and malformed input.
  bool send_raw(const std::string& bytes);
  // Reads one reply; status 0 on timeout or close.
  Reply read_reply();
  // True when the server has closed the connection (reads end of file before the timeout).
  bool closed_by_peer();

  static std::string format_request(const std::string& method, const std::string& target,
                                    const std::string& body, const std::string& token);

 private:
  bool fill();

  int fd_ = -1;
  std::string buffer_;
};

// A JSON string value of `field` in a flat JSON text, or nullopt; enough for test assertions.
std::optional<std::string> json_string(const std::string& json, const std::string& field);
// The raw text of a number, true, false or null value of `field`.
std::optional<std::string> json_raw(const std::string& json, const std::string& field);

}  // namespace hft::gateway::test
