#include "common/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace hft {

namespace {

std::runtime_error system_error(const std::string& what) {
  return std::runtime_error(what + " failed: " + std::strerror(errno));
}

// Opens the pipe for one output stream; returns {read end, write end} or {-1, -1}.
std::pair<int, int> open_pipe(Subprocess::Output mode) {
  if (mode != Subprocess::Output::kPipe) return {-1, -1};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw system_error("pipe");
  return {fds[0], fds[1]};
}

}  // namespace

Subprocess::Subprocess(Options options) {
  if (options.args.empty()) throw std::runtime_error("Subprocess needs a program path");

  std::map<std::string, std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text(*entry);
    auto equals = text.find('=');
    if (equals != std::string::npos) environment[text.substr(0, equals)] = text.substr(equals + 1);
  }
  for (const auto& [name, value] : options.env) environment[name] = value;

  // Everything the child needs is built before fork, because after fork only
  // async-signal-safe calls are allowed.
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : environment) env_strings.push_back(name + "=" + value);
  std::vector<char*> argv;
  for (auto& arg : options.args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  auto [stdout_read, stdout_write] = open_pipe(options.stdout_mode);
  auto [stderr_read, stderr_write] = open_pipe(options.stderr_mode);

  pid_ = ::fork();
  if (pid_ < 0) throw system_error("fork");
  if (pid_ == 0) {
    auto redirect = [](Output mode, const std::filesystem::path& path, int pipe_write, int target) {
      int fd = -1;
      if (mode == Output::kFile) fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (mode == Output::kPipe) fd = pipe_write;
      if (fd >= 0) ::dup2(fd, target);
    };
    redirect(options.stdout_mode, options.stdout_path, stdout_write, STDOUT_FILENO);
    redirect(options.stderr_mode, options.stderr_path, stderr_write, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }

  for (int fd : {stdout_write, stderr_write}) {
    if (fd >= 0) ::close(fd);
  }
  for (int fd : {stdout_read, stderr_read}) {
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  stdout_fd_ = stdout_read;
  stderr_fd_ = stderr_read;
}

Subprocess::~Subprocess() {
  if (running()) {
    send_signal(SIGKILL);
    (void)wait_for_exit(std::chrono::seconds(10));
  }
  close_stdout_pipe();
  close_stderr_pipe();
}

void Subprocess::close_stdout_pipe() {
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
}

void Subprocess::close_stderr_pipe() {
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
  stderr_fd_ = -1;
}

bool Subprocess::running() {
  if (exit_code_ || pid_ <= 0) return false;
  return !wait_for_exit(std::chrono::milliseconds(0)).has_value();
}

void Subprocess::send_signal(int signal) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, signal);
}

std::optional<int> Subprocess::wait_for_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;

  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t result = ::waitpid(pid_, &status, WNOHANG);
    if (result == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (result < 0 && errno != EINTR) throw system_error("waitpid");
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::filesystem::path current_executable() {
  return std::filesystem::read_symlink("/proc/self/exe");
}

}  // namespace hft
