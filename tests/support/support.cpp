#include "support.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace hft::test {

namespace {

std::runtime_error system_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

std::string hft_binary() {
  const char* path = std::getenv("HFT_BINARY");
  if (path == nullptr || *path == '\0') {
    throw std::runtime_error("HFT_BINARY is not set; run the tests through ctest");
  }
  if (::access(path, X_OK) != 0) throw system_error(std::string("HFT_BINARY=") + path);
  return path;
}

int free_tcp_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw system_error("socket");

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw system_error("bind to 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

TempDir::TempDir() {
  std::random_device random;
  auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = base / ("hft-test-" + std::to_string(random()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("could not create a temporary folder under " + base.string());
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::string& body,
                          const std::map<std::string, std::string>& headers,
                          std::chrono::milliseconds timeout) {
  return hft::http_request("127.0.0.1", port, method, target, body, headers, timeout);
}

bool wait_for_http_ok(int port, const std::string& target, std::chrono::milliseconds timeout) {
  return hft::wait_for_http_ok("127.0.0.1", port, target, timeout);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

ServerProcess::ServerProcess(std::vector<std::string> extra_args, std::filesystem::path data_dir)
    : extra_args_(std::move(extra_args)) {
  if (data_dir.empty()) {
    owned_dir_.emplace();
    data_dir = owned_dir_->path();
  }
  data_dir_ = data_dir;
  log_path_ = data_dir_ / "server.log";
  port_ = free_tcp_port();
  start();
}

void ServerProcess::start() {
  ChildProcess::Options options;
  options.args = {hft_binary(), "serve",
                  "--host",     "127.0.0.1",
                  "--port",     std::to_string(port_),
                  "--data-dir", (data_dir_ / "data").string()};
  options.args.insert(options.args.end(), extra_args_.begin(), extra_args_.end());
  options.stdout_mode = ChildProcess::Output::kFile;
  options.stderr_mode = ChildProcess::Output::kFile;
  options.stdout_path = log_path_;
  options.stderr_path = log_path_;
  process_ = std::make_unique<ChildProcess>(options);

  if (!wait_for_http_ok(port_, "/health", std::chrono::seconds(30))) {
    process_->send_signal(SIGKILL);
    throw std::runtime_error("hft serve did not answer /health on port " + std::to_string(port_) +
                             "; its log:\n" + log());
  }
}

std::optional<int> ServerProcess::stop(std::chrono::milliseconds timeout) {
  process_->send_signal(SIGTERM);
  return process_->wait_for_exit(timeout);
}

void ServerProcess::kill() {
  process_->send_signal(SIGKILL);
  (void)process_->wait_for_exit(std::chrono::seconds(10));
}

void ServerProcess::restart() {
  if (process_->running()) (void)stop();
  start();
}

}  // namespace hft::test
