// PostgresServer: a PostgreSQL 15 cluster for tests, created with initdb in a temp dir and run on
// a free 127.0.0.1 port, with its Unix socket in the same temp dir. TCP logins need the password
// (scram-sha-256), so a test exercises the credentials of its URL. The cluster has a user and a
// database both named "hft". The temp dir is removed with the object.
//
// PostgreSQL refuses to run as root. When the tests run as root, initdb and postgres run as the
// `postgres` system user through setpriv, which execs in place, so the pid the fixture stores is
// the postmaster's own. The temp dir is handed to that user.
//
// Not thread-safe; the test owns the object. Start failures throw std::runtime_error with the
// server's log. The destructor stops the server by pid.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support.h"

namespace hft::test {

class PostgresServer {
 public:
  static constexpr const char* kBinDir = "/usr/lib/postgresql/15/bin";
  static constexpr const char* kUser = "hft";
  static constexpr const char* kPassword = "hft-test-password";
  static constexpr const char* kDatabase = "hft";

  // Why the tests cannot start PostgreSQL (missing binaries, or root without a `postgres` user);
  // nullopt when they can.
  static std::optional<std::string> missing_binary();

  // Runs initdb, starts the server and creates the database.
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  [[nodiscard]] int port() const { return port_; }
  // "postgresql://hft:<password>@127.0.0.1:<port>/hft".
  [[nodiscard]] std::string url() const;
  [[nodiscard]] std::string log() const;

  // Starts the server again on the same data dir and port after stop(); waits until it accepts
  // connections (30 s at most).
  void start();
  // Fast shutdown (SIGINT): open sessions are ended. Returns the exit code, nullopt on timeout
  // (then SIGKILL).
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  [[nodiscard]] bool running() { return process_ && process_->running(); }

 private:
  // Runs a PostgreSQL program to completion (as the postgres user when running as root); throws
  // with the log when it fails.
  void run_tool(std::vector<std::string> args, std::chrono::seconds timeout);
  [[nodiscard]] std::vector<std::string> as_server_user(std::vector<std::string> args) const;
  [[nodiscard]] bool accepts_connections();

  TempDir dir_;
  std::filesystem::path data_dir_;
  std::filesystem::path log_path_;
  int port_ = 0;
  bool drop_root_ = false;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace hft::test
