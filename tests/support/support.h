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

// A child process started with fork/exec. Its stdout and stderr go to files (or are inherited
// when no path is given). The destructor sends SIGKILL to the process if it still runs and reaps
// it, so a failing test never leaves it behind. Only this process's own pid is ever signalled.
class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> args;                  // args[0] is the program path
    std::map<std::string, std::string> env;         // added to (or replacing) the environment
    std::optional<std::filesystem::path> stdout_path;
    std::optional<std::filesystem::path> stderr_path;
  };

  explicit ChildProcess(Options options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  bool running();
  void send_signal(int signal);

  // Waits up to `timeout` for the process to end. Returns its exit code, or 128 + signal number
  // when a signal ended it; std::nullopt when it still runs after the timeout.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);

 private:
  int pid_ = -1;
  std::optional<int> exit_code_;
};

struct HttpResponse {
  int status = 0;  // 0 when the request failed before a status line arrived
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string error;  // why the request failed, when status == 0
};

// Sends one HTTP/1.1 request to 127.0.0.1:`port` on a new connection and reads the reply.
HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::string& body = {},
                          const std::map<std::string, std::string>& headers = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Polls GET `target` until it answers 200 or `timeout` passes. Returns whether it answered.
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
