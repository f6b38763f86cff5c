#include "support.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

extern char** environ;

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

ChildProcess::ChildProcess(Options options) {
  if (options.args.empty()) throw std::runtime_error("ChildProcess needs a program path");

  std::map<std::string, std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text(*entry);
    auto equals = text.find('=');
    if (equals != std::string::npos) environment[text.substr(0, equals)] = text.substr(equals + 1);
  }
  for (const auto& [name, value] : options.env) environment[name] = value;

  std::vector<std::string> env_strings;
  for (const auto& [name, value] : environment) env_strings.push_back(name + "=" + value);
  std::vector<char*> argv;
  for (auto& arg : options.args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw system_error("fork");
  if (pid_ == 0) {
    // Child: only async-signal-safe calls until exec.
    auto redirect = [](const std::optional<std::filesystem::path>& path, int target) {
      if (!path) return;
      int fd = ::open(path->c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, target);
        ::close(fd);
      }
    };
    redirect(options.stdout_path, STDOUT_FILENO);
    redirect(options.stderr_path, STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (running()) {
    send_signal(SIGKILL);
    (void)wait_for_exit(std::chrono::seconds(10));
  }
}

bool ChildProcess::running() {
  if (exit_code_ || pid_ <= 0) return false;
  return !wait_for_exit(std::chrono::milliseconds(0)).has_value();
}

void ChildProcess::send_signal(int signal) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
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

HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::string& body,
                          const std::map<std::string, std::string>& headers,
                          std::chrono::milliseconds timeout) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using tcp = boost::asio::ip::tcp;

  HttpResponse response;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(timeout);
    stream.connect(tcp::endpoint(boost::asio::ip::address_v4::loopback(),
                                 static_cast<unsigned short>(port)));

    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    if (!body.empty() || method == "POST" || method == "PUT") {
      request.set(http::field::content_type, "application/json");
      request.body() = body;
      request.prepare_payload();
    }
    http::write(stream, request);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(stream, buffer, parser);
    auto& message = parser.get();
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = std::string(field.value());
    }
    response.body = message.body();
  } catch (const std::exception& error) {
    response.status = 0;
    response.error = error.what();
  }
  return response;
}

bool wait_for_http_ok(int port, const std::string& target, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto response = http_request(port, "GET", target, {}, {}, std::chrono::seconds(1));
    if (response.status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
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
  options.args = {hft_binary(), "serve", "--host", "127.0.0.1", "--port", std::to_string(port_),
                  "--data-dir", (data_dir_ / "data").string()};
  options.args.insert(options.args.end(), extra_args_.begin(), extra_args_.end());
  options.stdout_path = log_path_;
  options.stderr_path = log_path_;
  process_ = std::make_unique<ChildProcess>(options);

  if (!wait_for_http_ok(port_, "/health", std::chrono::seconds(30))) {
    process_->send_signal(SIGKILL);
    throw std::runtime_error("hft serve did not answer /health on port " +
                             std::to_string(port_) + "; its log:\n" + log());
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
