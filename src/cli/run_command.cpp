// `hft run`: the whole load test on one machine. Starts `hft serve` (unless --api-url aims at a
// running server), starts N `hft load` processes as separate processes, as they would run on
// separate machines, collects their output, prints the merged report and stops the server.
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "common/exit_codes.h"
#include "common/http_client.h"
#include "common/subprocess.h"
#include "load/load_options.h"
#include "report/aggregate.h"

namespace hft::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct RunOptions {
  int clients = 20;
  double duration_s = 60;
  std::string api_url;
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string data_dir;
  std::vector<std::string> serve_args;
  int startup_timeout_s = 30;
  int grace_s = 60;
  std::string output_path;
  load::LoadOptions load;
  report::AggregateFlags report_flags;
};

std::atomic<int> g_stop_signal{0};

void record_stop_signal(int signal) { g_stop_signal.store(signal); }

// Output of one client, read from its pipes while it runs.
struct ClientRun {
  int id = 0;
  std::unique_ptr<Subprocess> process;
  std::string stdout_text;
  std::string stderr_text;
  std::optional<int> exit_code;
};

// Reads what is available from a non-blocking pipe; returns false at end of file.
bool drain_pipe(int fd, std::string& sink) {
  char buffer[65536];
  while (true) {
    ssize_t count = ::read(fd, buffer, sizeof(buffer));
    if (count > 0) {
      sink.append(buffer, static_cast<size_t>(count));
      continue;
    }
    if (count == 0) return false;
    return errno == EAGAIN || errno == EINTR;
  }
}

// Returns the last `max_lines` lines of `text`, for failure messages.
std::string tail_lines(const std::string& text, size_t max_lines) {
  size_t start = text.size();
  if (start > 0 && text[start - 1] == '\n') --start;
  for (size_t lines = 0; lines < max_lines && start > 0; ++lines) {
    size_t newline = text.rfind('\n', start - 1);
    if (newline == std::string::npos) return text;
    start = newline;
  }
  return start == 0 ? text : text.substr(start + 1);
}

class ServerGuard {
 public:
  ServerGuard(const RunOptions& options, std::filesystem::path run_dir)
      : run_dir_(std::move(run_dir)), log_path_(run_dir_ / "server.log") {
    Subprocess::Options spawn;
    spawn.args = {current_executable().string(),
                  "serve",
                  "--host",
                  options.host,
                  "--port",
                  std::to_string(options.port),
                  "--data-dir",
                  (run_dir_ / "data").string()};
    spawn.args.insert(spawn.args.end(), options.serve_args.begin(), options.serve_args.end());
    spawn.stdout_mode = Subprocess::Output::kFile;
    spawn.stderr_mode = Subprocess::Output::kFile;
    spawn.stdout_path = log_path_;
    spawn.stderr_path = log_path_;
    process_ = std::make_unique<Subprocess>(spawn);
  }

  ~ServerGuard() {
    if (process_ && process_->running()) (void)stop();
  }

  Subprocess& process() { return *process_; }
  const std::filesystem::path& log_path() const { return log_path_; }

  // Sends SIGTERM and waits for the drain; returns the exit code, or nullopt after SIGKILL.
  std::optional<int> stop() {
    process_->send_signal(SIGTERM);
    auto code = process_->wait_for_exit(std::chrono::seconds(30));
    if (!code) {
      process_->send_signal(SIGKILL);
      (void)process_->wait_for_exit(std::chrono::seconds(5));
    }
    return code;
  }

  std::string log_tail() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return tail_lines(text.str(), 20);
  }

 private:
  std::filesystem::path run_dir_;
  std::filesystem::path log_path_;
  std::unique_ptr<Subprocess> process_;
};

// A TCP port on `host` that was free a moment ago: bound to port 0, then closed.
int pick_free_port(const std::string& host) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(host), 0));
  return acceptor.local_endpoint().port();
}

// Whether `host`:`port` can be bound now, so the local server will not fail on it.
bool port_is_free(const std::string& host, int port) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io);
  boost::system::error_code error;
  boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(host, error),
                                          static_cast<unsigned short>(port));
  if (error) return true;  // an invalid host is reported by the server itself
  acceptor.open(endpoint.protocol(), error);
  acceptor.set_option(boost::asio::socket_base::reuse_address(true), error);
  acceptor.bind(endpoint, error);
  return !error;
}

// Creates the folder for the server's data and log: --data-dir, or a fresh temporary one.
std::filesystem::path make_run_dir(const RunOptions& options, bool& remove_after) {
  if (!options.data_dir.empty()) {
    remove_after = false;
    std::filesystem::create_directories(options.data_dir);
    return options.data_dir;
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "hft-run-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("could not create a temporary folder: " +
                             std::string(std::strerror(errno)));
  }
  remove_after = true;
  return pattern;
}

void print_progress(Clock::time_point start, double duration_s, size_t running, size_t total) {
  static bool terminal = ::isatty(STDERR_FILENO) != 0;
  auto elapsed_s = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start).count();
  auto line = fmt::format("hft run: {:>4} s of {} s, {} of {} clients running", elapsed_s,
                          duration_s, running, total);
  if (terminal) {
    std::cerr << '\r' << line << "   " << std::flush;
  } else {
    std::cerr << line << '\n';
  }
}

// Runs every client to completion, reading their pipes. Returns false if it was interrupted.
bool run_clients(const RunOptions& options, const std::string& api_url,
                 std::vector<ClientRun>& clients) {
  auto exe = current_executable().string();

  // Clients register first, then wait for a common start time, so that registration (a slow
  // password hash on the server) does not stagger their active windows.
  load::LoadOptions load_options = options.load;
  if (load_options.start_at.empty()) {
    double margin_s = 2.0 + 0.1 * options.clients;
    auto now = std::chrono::system_clock::now().time_since_epoch();
    double start_at_s = std::chrono::duration<double>(now).count() + margin_s;
    load_options.start_at = fmt::format("{:.3f}", start_at_s);
  }
  std::vector<std::string> load_args = load::to_args(load_options);

  for (int id = 1; id <= options.clients; ++id) {
    Subprocess::Options spawn;
    spawn.args = {exe, "load"};
    spawn.args.insert(spawn.args.end(), load_args.begin(), load_args.end());
    spawn.env = {{"CLIENT_ID", std::to_string(id)},
                 {"API_URL", api_url},
                 {"DURATION_SEC", fmt::format("{}", options.duration_s)}};
    spawn.stdout_mode = Subprocess::Output::kPipe;
    spawn.stderr_mode = Subprocess::Output::kPipe;
    ClientRun run;
    run.id = id;
    run.process = std::make_unique<Subprocess>(spawn);
    clients.push_back(std::move(run));
  }

  // Clients register, run for the duration and print; past the grace period they are ended.
  auto start = Clock::now();
  auto deadline = start + std::chrono::milliseconds(
                              static_cast<int64_t>((options.duration_s + options.grace_s) * 1000));
  auto next_progress = start + std::chrono::seconds(5);
  bool interrupted = false;
  while (true) {
    std::vector<pollfd> fds;
    std::vector<std::pair<ClientRun*, bool>> owners;  // client, is stdout
    for (auto& client : clients) {
      if (client.process->stdout_fd() >= 0) {
        fds.push_back({client.process->stdout_fd(), POLLIN, 0});
        owners.emplace_back(&client, true);
      }
      if (client.process->stderr_fd() >= 0) {
        fds.push_back({client.process->stderr_fd(), POLLIN, 0});
        owners.emplace_back(&client, false);
      }
    }
    if (fds.empty()) break;

    ::poll(fds.data(), fds.size(), 200);
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      auto [client, is_stdout] = owners[i];
      std::string& sink = is_stdout ? client->stdout_text : client->stderr_text;
      if (!drain_pipe(fds[i].fd, sink)) {
        if (is_stdout) {
          client->process->close_stdout_pipe();
        } else {
          client->process->close_stderr_pipe();
        }
      }
    }

    if (g_stop_signal.load() != 0 && !interrupted) {
      interrupted = true;
      for (auto& client : clients) client.process->send_signal(SIGTERM);
      deadline = Clock::now() + std::chrono::seconds(5);
    }
    if (Clock::now() > deadline) {
      for (auto& client : clients) client.process->send_signal(SIGKILL);
    }
    if (Clock::now() >= next_progress) {
      size_t running = 0;
      for (auto& client : clients) running += client.process->running() ? 1 : 0;
      print_progress(start, options.duration_s, running, clients.size());
      next_progress += std::chrono::seconds(5);
    }
  }
  if (::isatty(STDERR_FILENO) != 0) std::cerr << '\n';

  for (auto& client : clients)
    client.exit_code = client.process->wait_for_exit(std::chrono::seconds(10));
  return !interrupted;
}

int run(const RunOptions& options) {
  if (options.clients < 1) {
    std::cerr << "hft run: --clients must be at least 1, got " << options.clients << '\n';
    return kExitUsage;
  }
  if (!(options.duration_s > 0)) {
    std::cerr << "hft run: invalid --duration " << options.duration_s
              << ": expected seconds above 0\n";
    return kExitUsage;
  }
  if (!options.api_url.empty() && options.api_url.rfind("http://", 0) != 0) {
    std::cerr << "hft run: invalid --api-url " << options.api_url
              << ": expected http://HOST[:PORT]\n";
    return kExitUsage;
  }

  std::string load_error = load::validate_load_options(options.load);
  if (!load_error.empty()) {
    std::cerr << "hft run: " << load_error << '\n';
    return kExitUsage;
  }
  report::AggregateOptions report_options;
  std::string report_error = report::resolve_aggregate_flags(options.report_flags, report_options);
  if (!report_error.empty()) {
    std::cerr << "hft run: " << report_error << '\n';
    return kExitUsage;
  }
  report_options.expect_clients = options.clients;

  struct sigaction action {};
  action.sa_handler = record_stop_signal;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  // A local server unless the user aims at a running one.
  std::string api_url = options.api_url;
  RunOptions local = options;
  if (api_url.empty() && local.port == 0) local.port = pick_free_port(local.host);
  std::unique_ptr<ServerGuard> server;
  bool remove_run_dir = false;
  std::filesystem::path run_dir;
  if (api_url.empty()) {
    if (!port_is_free(local.host, local.port)) {
      std::cerr << fmt::format(
          "hft run: {}:{} is already in use; stop the program that listens there, choose another "
          "port with --port (0 picks a free one), or test a running server with --api-url\n",
          local.host, local.port);
      return kExitFailure;
    }
    run_dir = make_run_dir(local, remove_run_dir);
    server = std::make_unique<ServerGuard>(local, run_dir);
    api_url = fmt::format("http://{}:{}", local.host, local.port);
    std::cerr << fmt::format("hft run: starting hft serve on {} (data and log in {})\n", api_url,
                             run_dir.string());
    auto deadline = Clock::now() + std::chrono::seconds(local.startup_timeout_s);
    bool healthy = false;
    while (Clock::now() < deadline && server->process().running() && g_stop_signal == 0) {
      if (hft::http_request(local.host, local.port, "GET", "/health", {}, {},
                            std::chrono::seconds(1))
              .status == 200) {
        healthy = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!healthy) {
      auto exit_code = server->process().wait_for_exit(std::chrono::milliseconds(0));
      std::string why =
          exit_code ? fmt::format("exited with code {}", *exit_code)
                    : fmt::format("did not answer /health within {} s", local.startup_timeout_s);
      std::cerr << fmt::format("hft run: hft serve {}; the end of its log ({}):\n{}\n", why,
                               server->log_path().string(), server->log_tail());
      return g_stop_signal != 0 ? 128 + g_stop_signal.load() : kExitFailure;
    }
  }

  std::cerr << fmt::format("hft run: {} clients for {} s against {}\n", options.clients,
                           options.duration_s, api_url);
  std::vector<ClientRun> clients;
  bool completed = run_clients(options, api_url, clients);

  // Every client's stdout goes to the aggregator; failed clients are named with their stderr.
  std::string combined;
  int failed_clients = 0;
  for (auto& client : clients) {
    combined += client.stdout_text;
    if (!combined.empty() && combined.back() != '\n') combined += '\n';
    if (client.exit_code != 0) {
      ++failed_clients;
      std::cerr << fmt::format("hft run: client {} exited with {}; the end of its stderr:\n{}\n",
                               client.id,
                               client.exit_code ? std::to_string(*client.exit_code) : "no exit",
                               tail_lines(client.stderr_text, 10));
    }
  }
  if (!options.output_path.empty()) {
    std::ofstream out(options.output_path);
    out << combined;
    if (!out) {
      std::cerr << "hft run: could not write --output " << options.output_path << '\n';
    }
  }

  std::istringstream input(combined);
  int report_code = report::aggregate_stream(input, report_options, std::cout, std::cerr);
  std::cout << std::flush;

  int server_code = kExitOk;
  if (server) {
    auto code = server->stop();
    if (!code || *code != 0) {
      std::cerr << fmt::format(
          "hft run: hft serve did not stop cleanly ({}); the end of its "
          "log:\n{}\n",
          code ? "exit " + std::to_string(*code) : "killed after 30 s", server->log_tail());
      server_code = kExitFailure;
    }
    if (remove_run_dir && server_code == kExitOk) {
      std::error_code ignored;
      std::filesystem::remove_all(run_dir, ignored);
    }
  }

  if (!completed) return 128 + g_stop_signal.load();
  if (report_code != kExitOk) return report_code;
  if (failed_clients > 0 || server_code != kExitOk) return kExitFailure;
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<RunOptions>();
  auto* command = app.add_subcommand(
      "run", "Run the whole load test here: a local server, N client processes, the report");

  command->add_option("--clients", options->clients, "Number of client processes")
      ->envname("CLIENTS")
      ->capture_default_str();
  command->add_option("--duration", options->duration_s, "Seconds each client sends orders")
      ->envname("DURATION_SEC")
      ->capture_default_str();
  command
      ->add_option("--api-url", options->api_url,
                   "Test a running server at this URL instead of starting one")
      ->envname("API_URL");
  command->add_option("--host", options->host, "Address of the local server")
      ->envname("HOST")
      ->capture_default_str();
  command->add_option("--port", options->port, "Port of the local server (0 picks a free one)")
      ->envname("PORT")
      ->capture_default_str();
  command
      ->add_option("--data-dir", options->data_dir,
                   "Folder for the local server's journal and log (default: a temporary "
                   "folder, removed after a clean run)")
      ->envname("DATA_DIR");
  command
      ->add_option("--serve-arg", options->serve_args,
                   "Extra flag for the local server, repeatable (e.g. --serve-arg=--ack=queued)")
      ->envname("SERVE_ARG")
      ->allow_extra_args(false);
  command
      ->add_option("--startup-timeout", options->startup_timeout_s,
                   "Seconds to wait for the local server's /health")
      ->envname("STARTUP_TIMEOUT_S")
      ->capture_default_str();
  command
      ->add_option("--grace", options->grace_s,
                   "Seconds past the duration before unfinished clients are ended")
      ->envname("GRACE_S")
      ->capture_default_str();
  command
      ->add_option("--output", options->output_path,
                   "File to save every client's raw output to, for `hft aggregate` later")
      ->envname("RUN_OUTPUT");

  load::add_load_options(*command, options->load);
  // The report flags of `hft aggregate`, except --expect-clients, which is --clients here.
  report::add_aggregate_options(*command, options->report_flags);
  command->remove_option(command->get_option("--expect-clients"));

  command->callback([options, &exit_code] {
    try {
      exit_code = run(*options);
    } catch (const std::exception& error) {
      std::cerr << "hft run: " << error.what() << '\n';
      exit_code = kExitFailure;
    }
  });
}

}  // namespace hft::cli
