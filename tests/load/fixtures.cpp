#include "fixtures.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hft::load::test {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);

std::string nginx_config(const std::filesystem::path& dir, int port) {
  std::string root = dir.string();
  std::ostringstream config;
  config
      << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
      << "error_log " << root << "/error.log;\npid " << root << "/nginx.pid;\n"
      << "events { worker_connections 4096; }\n"
      << "http {\n  access_log off;\n  keepalive_requests 100000000;\n"
      << "  client_body_temp_path " << root << "/body;\n"
      << "  proxy_temp_path " << root << "/proxy;\n"
      << "  fastcgi_temp_path " << root << "/fastcgi;\n"
      << "  uwsgi_temp_path " << root << "/uwsgi;\n"
      << "  scgi_temp_path " << root << "/scgi;\n"
      << "  server {\n    listen 127.0.0.1:" << port << ";\n"
      << R"(    location = /health { return 200 '{"status":"healthy"}'; })"
      << "\n"
      << R"(    location = /api/auth/register { return 201 '{"user_id":1,"access_token":"t","token_type":"bearer"}'; })"
      << "\n"
      << R"(    location = /api/orders { return 201 '{"id":1,"status":"QUEUED"}'; })"
      << "\n"
      << R"(    location = /api/orders/batch { return 201 '{"accepted":2,"rejected":1,"results":[{"id":1,"status":"QUEUED"},{"index":1,"error":"invalid_order","detail":"quantity"},{"id":3,"status":"QUEUED"}]}'; })"
      << "\n"
      << R"(    location /api/orders/ { return 200 '{"id":1,"status":"CANCELLED"}'; })"
      << "\n"
      << "  }\n}\n";
  return config.str();
}

}  // namespace

NginxServer::NginxServer() : port_(hft::test::free_tcp_port()) {
  std::filesystem::path config = dir_.path() / "nginx.conf";
  std::ofstream(config) << nginx_config(dir_.path(), port_);

  hft::Subprocess::Options options;
  options.args = {NGINX_BINARY,
                  "-p",
                  dir_.path().string(),
                  "-c",
                  config.string(),
                  "-e",
                  (dir_.path() / "error.log").string()};
  options.stdout_mode = hft::Subprocess::Output::kFile;
  options.stdout_path = dir_.path() / "stdout.log";
  options.stderr_mode = hft::Subprocess::Output::kFile;
  options.stderr_path = dir_.path() / "stderr.log";
  process_.emplace(options);
  if (!hft::test::wait_for_http_ok(port_, "/health", kStartTimeout)) {
    throw std::runtime_error("nginx did not answer /health: " +
                             hft::test::read_file(dir_.path() / "error.log"));
  }
}

SilentServer::SilentServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  int reuse = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listen_fd_, 128) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("bind or listen on 127.0.0.1 failed");
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

SilentServer::~SilentServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

void SilentServer::serve() {
  std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}};
  std::vector<std::string> pending(1);
  const std::string reply_body = R"({"user_id":1,"access_token":"t","token_type":"bearer"})";
  const std::string reply =
      "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(reply_body.size()) + "\r\n\r\n" + reply_body;
  while (!stop_) {
    if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client >= 0) {
        fds.push_back({client, POLLIN, 0});
        pending.emplace_back();
      }
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buffer[4096];
      ssize_t size = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (size <= 0) {
        ::close(fds[i].fd);
        fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(i));
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
        --i;
        continue;
      }
      pending[i].append(buffer, static_cast<std::size_t>(size));
      // Registration gets a reply once its body has arrived; orders are only read.
      std::size_t head_end = pending[i].find("\r\n\r\n");
      if (pending[i].rfind("POST /api/auth/register", 0) == 0 && head_end != std::string::npos &&
          pending[i].find('}', head_end) != std::string::npos) {
        ssize_t written = ::write(fds[i].fd, reply.data(), reply.size());
        (void)written;
        pending[i].clear();
      }
    }
  }
  for (std::size_t i = 1; i < fds.size(); ++i) ::close(fds[i].fd);
}

LoadRun run_load(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  hft::test::TempDir dir;
  hft::Subprocess::Options options;
  options.args = {hft::test::hft_binary(), "load"};
  options.args.insert(options.args.end(), args.begin(), args.end());
  options.stdout_mode = hft::Subprocess::Output::kFile;
  options.stdout_path = dir.path() / "stdout.txt";
  options.stderr_mode = hft::Subprocess::Output::kFile;
  options.stderr_path = dir.path() / "stderr.txt";

  LoadRun run;
  {
    hft::Subprocess child(options);
    run.exit_code = child.wait_for_exit(timeout);
  }
  run.output = hft::test::read_file(options.stdout_path);
  run.errors = hft::test::read_file(options.stderr_path);

  std::istringstream lines(run.output);
  std::string line;
  while (std::getline(lines, line)) {
    report::ParsedLine parsed = report::parse_result_line(line);
    if (parsed.status == report::LineParse::kNotAResult) continue;
    ++run.result_lines;
    if (parsed.status == report::LineParse::kParsed) run.result = parsed.result;
  }
  return run;
}

}  // namespace hft::load::test
