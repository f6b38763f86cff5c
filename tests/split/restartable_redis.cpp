#include "restartable_redis.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "redis/connection.h"
#include "redis/redis_url.h"

namespace hft::split {

namespace {

std::string redis_server_path() {
  const char* path = std::getenv("PATH");
  std::stringstream folders(path != nullptr ? path : "/usr/bin:/bin");
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    std::filesystem::path candidate = std::filesystem::path(folder) / "redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw std::runtime_error("redis-server is not on PATH");
}

// True when the server replies PONG to PING, which it does only after loading its data.
bool answers_ping(const std::string& url_text) {
  redis::RedisUrlResult url = redis::parse_redis_url(url_text);
  if (!url.ok()) return false;
  redis::ConnectResult connected =
      redis::Connection::connect(*url.url, std::chrono::milliseconds(500));
  if (!connected.connection) return false;
  redis::Reply reply = connected.connection->command({"PING"});
  return reply && redis::reply_text(*reply) == "PONG";
}

}  // namespace

RestartableRedis::RestartableRedis() : port_(test::free_tcp_port()) { start(); }

RestartableRedis::~RestartableRedis() {
  if (process_ && process_->running()) (void)stop();
}

void RestartableRedis::start() {
  test::ChildProcess::Options options;
  options.args = {redis_server_path(),
                  "--port",
                  std::to_string(port_),
                  "--bind",
                  "127.0.0.1",
                  "--save",
                  "",
                  "--appendonly",
                  "yes",
                  "--appendfsync",
                  "always",
                  "--dir",
                  dir_.path().string()};
  options.stdout_mode = test::ChildProcess::Output::kFile;
  options.stderr_mode = test::ChildProcess::Output::kFile;
  options.stdout_path = dir_.path() / "redis.log";
  options.stderr_path = dir_.path() / "redis.log";
  process_ = std::make_unique<test::ChildProcess>(options);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!answers_ping(url())) {
    if (!process_->running() || std::chrono::steady_clock::now() > deadline) {
      process_->send_signal(SIGKILL);
      (void)process_->wait_for_exit(std::chrono::seconds(5));
      throw std::runtime_error("redis-server did not answer PING on port " + std::to_string(port_) +
                               "; its log:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<int> RestartableRedis::stop(std::chrono::milliseconds timeout) {
  process_->send_signal(SIGTERM);
  std::optional<int> code = process_->wait_for_exit(timeout);
  if (!code) {
    process_->send_signal(SIGKILL);
    (void)process_->wait_for_exit(std::chrono::seconds(5));
  }
  return code;
}

std::string RestartableRedis::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/0";
}

std::string RestartableRedis::log() const { return test::read_file(dir_.path() / "redis.log"); }

}  // namespace hft::split
