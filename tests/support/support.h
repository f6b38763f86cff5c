// Test support shared by every suite that runs real processes: child processes ended by pid,
// free loopback ports, temporary folders and a blocking HTTP client for 127.0.0.1.
//
// Not thread-safe unless stated; each test owns its objects. Failures that make a test
// meaningless (fork failed, no free port) throw std::runtime_error with the reason.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/http_client.h"
#include "common/subprocess.h"

namespace hft::test {

// Path of the `hft` executable under test, from the HFT_BINARY environment variable that the
// test's CMake sets. Throws if it is unset or not executable.
std::string hft_binary();

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed).
int free_tcp_port();

// A fresh folder under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Child processes and the blocking HTTP client come from src/common, so tests start and query
// the server exactly as `hft run` does.
using ChildProcess = hft::Subprocess;
using hft::HttpResponse;

// Sends one request to 127.0.0.1:`port` on a new connection and reads the reply.
HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::string& body = {},
                          const std::map<std::string, std::string>& headers = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Polls GET `target` on 127.0.0.1:`port` until it answers 200 or `timeout` passes.
bool wait_for_http_ok(int port, const std::string& target, std::chrono::milliseconds timeout);

// Reads a whole file into a string; empty when it does not exist.
std::string read_file(const std::filesystem::path& path);

// A running `hft serve` on 127.0.0.1 with its data in a folder that outlives restarts of the
// server. Starts in the constructor and waits for /health; throws if it does not come up.
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> extra_args = {},
                         std::filesystem::path data_dir = {});
  ~ServerProcess() = default;

  int port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  ChildProcess& process() { return *process_; }
  std::string log() const { return read_file(log_path_); }

  // Sends SIGTERM and waits for exit; returns the exit code (nullopt on timeout).
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Sends SIGKILL and reaps the process.
  void kill();
  // Starts the server again on the same port and data dir.
  void restart();

 private:
  void start();

  std::optional<TempDir> owned_dir_;
  std::filesystem::path data_dir_;
  std::filesystem::path log_path_;
  std::vector<std::string> extra_args_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace hft::test
