#include "postgres_server.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace hft::test {

namespace {

constexpr const char* kSetpriv = "/usr/bin/setpriv";
constexpr const char* kServerUser = "postgres";

std::string bin(const char* program) {
  return std::string(PostgresServer::kBinDir) + "/" + program;
}

}  // namespace

std::optional<std::string> PostgresServer::missing_binary() {
  for (const char* program : {"initdb", "postgres", "pg_isready", "createdb"}) {
    if (::access(bin(program).c_str(), X_OK) != 0) {
      return bin(program) + " is missing; install the postgresql-15 package to run this test";
    }
  }
  if (::geteuid() == 0 && (::getpwnam(kServerUser) == nullptr || ::access(kSetpriv, X_OK) != 0)) {
    return std::string("running as root needs the '") + kServerUser + "' system user and " +
           kSetpriv + ", because PostgreSQL refuses to run as root";
  }
  return std::nullopt;
}

PostgresServer::PostgresServer() {
  if (auto reason = missing_binary()) throw std::runtime_error(*reason);
  data_dir_ = dir_.path() / "data";
  log_path_ = dir_.path() / "postgres.log";
  port_ = free_tcp_port();

  std::filesystem::path password_file = dir_.path() / "password";
  std::ofstream(password_file) << kPassword << "\n";

  drop_root_ = ::geteuid() == 0;
  if (drop_root_) {
    const passwd* user = ::getpwnam(kServerUser);
    for (const auto& path : {dir_.path(), password_file}) {
      if (::chown(path.c_str(), user->pw_uid, user->pw_gid) != 0) {
        throw std::runtime_error("chown " + path.string() + " to " + kServerUser + " failed");
      }
    }
  }

  run_tool(
      {bin("initdb"), "-D", data_dir_.string(), "-U", kUser, "--pwfile=" + password_file.string(),
       "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"},
      std::chrono::seconds(120));
  start();
  run_tool({bin("createdb"), "-h", dir_.path().string(), "-p", std::to_string(port_), "-U", kUser,
            kDatabase},
           std::chrono::seconds(30));
}

PostgresServer::~PostgresServer() {
  if (running()) (void)stop();
}

std::vector<std::string> PostgresServer::as_server_user(std::vector<std::string> args) const {
  if (!drop_root_) return args;
  std::vector<std::string> wrapped = {kSetpriv, std::string("--reuid=") + kServerUser,
                                      std::string("--regid=") + kServerUser, "--init-groups", "--"};
  wrapped.insert(wrapped.end(), args.begin(), args.end());
  return wrapped;
}

void PostgresServer::run_tool(std::vector<std::string> args, std::chrono::seconds timeout) {
  ChildProcess::Options options;
  options.args = as_server_user(args);
  options.stdout_mode = ChildProcess::Output::kFile;
  options.stderr_mode = ChildProcess::Output::kFile;
  options.stdout_path = log_path_;
  options.stderr_path = log_path_;
  ChildProcess tool(options);
  auto code = tool.wait_for_exit(timeout);
  if (code == 0) return;
  throw std::runtime_error(
      args[0] + (code ? " exited with " + std::to_string(*code) : std::string(" timed out")) +
      "; the log:\n" + log());
}

bool PostgresServer::accepts_connections() {
  ChildProcess::Options options;
  options.args = {bin("pg_isready"),     "-q", "-h", "127.0.0.1", "-p",
                  std::to_string(port_), "-t", "1"};
  ChildProcess probe(options);
  return probe.wait_for_exit(std::chrono::seconds(5)) == 0;
}

void PostgresServer::start() {
  ChildProcess::Options options;
  options.args =
      as_server_user({bin("postgres"), "-D", data_dir_.string(), "-p", std::to_string(port_), "-k",
                      dir_.path().string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"});
  options.stdout_mode = ChildProcess::Output::kFile;
  options.stderr_mode = ChildProcess::Output::kFile;
  options.stdout_path = log_path_;
  options.stderr_path = log_path_;
  process_ = std::make_unique<ChildProcess>(options);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!accepts_connections()) {
    if (!process_->running() || std::chrono::steady_clock::now() > deadline) {
      process_->send_signal(SIGKILL);
      (void)process_->wait_for_exit(std::chrono::seconds(5));
      throw std::runtime_error("postgres did not accept connections on port " +
                               std::to_string(port_) + "; its log:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::optional<int> PostgresServer::stop(std::chrono::milliseconds timeout) {
  process_->send_signal(SIGINT);
  auto code = process_->wait_for_exit(timeout);
  if (!code) {
    process_->send_signal(SIGKILL);
    (void)process_->wait_for_exit(std::chrono::seconds(5));
  }
  return code;
}

std::string PostgresServer::url() const {
  return std::string("postgresql://") + kUser + ":" + kPassword +
         "@127.0.0.1:" + std::to_string(port_) + "/" + kDatabase;
}

std::string PostgresServer::log() const { return read_file(log_path_); }

}  // namespace hft::test
