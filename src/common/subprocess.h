// Subprocess: a child process started with fork/exec, its output sent to a file, a pipe the
// parent reads, or the parent's own stream, and ended only by its own pid.
//
// Not thread-safe: one thread owns each object. The destructor sends SIGKILL to a child that is
// still running and reaps it, so no child outlives its owner by accident. Start failures (fork,
// pipe) throw std::runtime_error with the errno text; exec failures make the child exit with 127.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hft {

class Subprocess {
 public:
  enum class Output { kInherit, kFile, kPipe };

  struct Options {
    std::vector<std::string> args;           // args[0] is the program path
    std::map<std::string, std::string> env;  // added to, or replacing, the parent's environment
    Output stdout_mode = Output::kInherit;
    Output stderr_mode = Output::kInherit;
    std::filesystem::path stdout_path;  // with Output::kFile; opened for appending
    std::filesystem::path stderr_path;
  };

  explicit Subprocess(Options options);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  int pid() const { return pid_; }

  // Read ends of the pipes (non-blocking), or -1 when that stream is not a pipe. The object
  // closes them on destruction; `close_stdout_pipe` closes one early, after end of file.
  int stdout_fd() const { return stdout_fd_; }
  int stderr_fd() const { return stderr_fd_; }
  void close_stdout_pipe();
  void close_stderr_pipe();

  bool running();
  void send_signal(int signal);

  // Waits up to `timeout` for the child to end. Returns its exit code, or 128 + the signal
  // number when a signal ended it; std::nullopt while it still runs.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);

 private:
  int pid_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::optional<int> exit_code_;
};

// Path of the running executable (/proc/self/exe), so a command can start its siblings.
std::filesystem::path current_executable();

}  // namespace hft
