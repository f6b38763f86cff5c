#include "redis_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace hft::test {

namespace {

std::optional<std::filesystem::path> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream folders(path != nullptr ? path : "/usr/bin:/bin");
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    std::filesystem::path candidate = std::filesystem::path(folder) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// True when a server on 127.0.0.1:`port` replies to PING: +PONG, or -NOAUTH under --requirepass.
bool answers_ping(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const char ping[] = "PING\r\n";
    char reply[8] = {};
    ok = ::send(fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) == sizeof(ping) - 1 &&
         ::recv(fd, reply, 7, 0) >= 5 &&
         (std::string(reply, 5) == "+PONG" || std::string(reply, 5) == "-NOAU");
  }
  ::close(fd);
  return ok;
}

}  // namespace

std::optional<std::string> RedisServer::missing_binary() {
  if (find_on_path("redis-server")) return std::nullopt;
  return "redis-server is not on PATH; install the redis-server package to run this test";
}

RedisServer::RedisServer(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {
  if (!find_on_path("redis-server")) throw std::runtime_error(*missing_binary());
  port_ = free_tcp_port();
  start();
}

void RedisServer::start() {
  auto binary = find_on_path("redis-server");
  if (!binary) throw std::runtime_error(*missing_binary());

  ChildProcess::Options options;
  options.args = {binary->string(),
                  "--port",
                  std::to_string(port_),
                  "--bind",
                  "127.0.0.1",
                  "--save",
                  "",
                  "--appendonly",
                  "no",
                  "--dir",
                  dir_.path().string()};
  options.args.insert(options.args.end(), extra_args_.begin(), extra_args_.end());
  options.stdout_mode = ChildProcess::Output::kFile;
  options.stderr_mode = ChildProcess::Output::kFile;
  options.stdout_path = dir_.path() / "redis.log";
  options.stderr_path = dir_.path() / "redis.log";
  process_ = std::make_unique<ChildProcess>(options);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!answers_ping(port_)) {
    if (!process_->running() || std::chrono::steady_clock::now() > deadline) {
      process_->send_signal(SIGKILL);
      throw std::runtime_error("redis-server did not answer PING on port " + std::to_string(port_) +
                               "; its log:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

RedisServer::~RedisServer() {
  if (process_ && process_->running()) (void)stop();
}

std::string RedisServer::url(int database) const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(database);
}

std::string RedisServer::log() const { return read_file(dir_.path() / "redis.log"); }

std::optional<int> RedisServer::stop(std::chrono::milliseconds timeout) {
  process_->send_signal(SIGTERM);
  auto code = process_->wait_for_exit(timeout);
  if (!code) {
    process_->send_signal(SIGKILL);
    (void)process_->wait_for_exit(std::chrono::seconds(5));
  }
  return code;
}

}  // namespace hft::test
