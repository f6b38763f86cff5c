// RestartableRedis: a redis-server child process for tests that stop Redis and start it again on
// the same 127.0.0.1 port and data folder, as an operator restarting Redis would. It writes an
// append-only file (`--appendonly yes --appendfsync always`), so every acknowledged write
// survives the restart.
//
// Not thread-safe; the test owns the object. start() throws std::runtime_error with the server's
// log when Redis does not answer PING within 10 s. The destructor stops the server by its pid.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "support.h"

namespace hft::split {

class RestartableRedis {
 public:
  // Picks a free port and starts the server.
  RestartableRedis();
  ~RestartableRedis();
  RestartableRedis(const RestartableRedis&) = delete;
  RestartableRedis& operator=(const RestartableRedis&) = delete;

  // Starts the server on the same port and folder; it must be stopped.
  void start();
  // Sends SIGTERM to the server's pid and waits; returns the exit code, nullopt on timeout (the
  // server is then killed with SIGKILL).
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  [[nodiscard]] int port() const { return port_; }
  // "redis://127.0.0.1:<port>/0".
  [[nodiscard]] std::string url() const;
  [[nodiscard]] std::string log() const;

 private:
  test::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<test::ChildProcess> process_;
};

}  // namespace hft::split
