// RedisServer: a redis-server child process for tests, on a free 127.0.0.1 port, without
// persistence (`--save '' --appendonly no`) and with its working folder in a temp dir that is
// removed afterwards.
//
// Not thread-safe; the test owns the object. The constructor throws std::runtime_error with the
// server's log when it does not answer PING within 10 s. The destructor stops the server by pid.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support.h"

namespace hft::test {

class RedisServer {
 public:
  // Why the tests cannot start Redis (redis-server is not on PATH); nullopt when they can.
  static std::optional<std::string> missing_binary();

  // Starts redis-server with `extra_args` appended, for example
  // {"--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"}.
  explicit RedisServer(std::vector<std::string> extra_args = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  [[nodiscard]] int port() const { return port_; }
  // "redis://127.0.0.1:<port>/<database>".
  [[nodiscard]] std::string url(int database = 0) const;
  [[nodiscard]] std::string log() const;

  // Sends SIGTERM and waits; returns the exit code, nullopt on timeout (then SIGKILL).
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace hft::test
