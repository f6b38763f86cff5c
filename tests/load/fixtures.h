// Servers and helpers for the load-client tests: nginx with fixed replies of the order API, a
// server that registers users but never replies to an order, and a runner for `hft load`.
//
// Not thread-safe: each test owns its objects. Start failures throw std::runtime_error.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "report/client_result.h"
#include "support.h"

namespace hft::load::test {

// nginx on 127.0.0.1 that replies to POST /api/auth/register with a token, POST /api/orders with an
// acknowledged order, POST /api/orders/batch with three results of which the second is an
// error, DELETE /api/orders/{id} with a cancelled order, and GET /health.
class NginxServer {
 public:
  NginxServer();
  ~NginxServer() = default;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  hft::test::TempDir dir_;
  int port_ = 0;
  std::optional<hft::test::ChildProcess> process_;
};

// Accepts connections and replies to POST /api/auth/register with a token. Any other request
// is read and gets no reply, so every order times out.
class SilentServer {
 public:
  SilentServer();
  ~SilentServer();
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void serve();

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct LoadRun {
  std::optional<int> exit_code;  // nullopt when the watchdog killed the client
  std::string output;
  std::string errors;
  std::optional<report::ClientResult> result;  // parsed from the JSON: line
  int result_lines = 0;
};

// Runs `hft load ARGS` to completion, killing it after `timeout`.
LoadRun run_load(const std::vector<std::string>& args, std::chrono::milliseconds timeout);

}  // namespace hft::load::test
