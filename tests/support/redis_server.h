// RedisServer: a redis-server child process for tests, on a free 127.0.0.1 port, without
// persistence (`--save '' --appendonly no`, which extra arguments may override) and with its
// working folder in a temp dir that is removed afterwards. A test can stop it and start it again
// on the same port and folder, as an operator restarting Redis would.
//
// Not thread-safe; the test owns the object. The constructor and start() throw
// std::runtime_error with the server's log when it does not reply to PING within 10 s. The
// destructor stops the server by pid.
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
  // Starts the stopped server again with the same arguments, port and folder.
  void start();

 private:
  std::vector<std::string> extra_args_;
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace hft::test
