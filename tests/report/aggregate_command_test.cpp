// `hft aggregate` as a process: flags, exit codes and output on real files and pipes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/exit_codes.h"
#include "support.h"

namespace hft::report {
namespace {

struct Finished {
  std::optional<int> exit_code;  // nullopt when the watchdog had to kill the process
  std::string output;
  std::string errors;
};

// Runs `hft aggregate ARGS` with a standard input pipe that stays open and empty, so a command
// that reads its input before checking its flags blocks until the watchdog kills it.
Finished run_with_open_stdin(const std::vector<std::string>& args,
                             std::chrono::milliseconds timeout) {
  test::TempDir dir;
  std::filesystem::path out_path = dir.path() / "out.txt";
  std::filesystem::path err_path = dir.path() / "err.txt";
  std::string binary = test::hft_binary();
  std::vector<std::string> full = {binary, "aggregate"};
  full.insert(full.end(), args.begin(), args.end());

  int stdin_pipe[2];
  if (::pipe(stdin_pipe) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(stdin_pipe[0], STDIN_FILENO);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& arg : full) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(stdin_pipe[0]);

  Finished finished;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      finished.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!finished.exit_code) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  ::close(stdin_pipe[1]);
  finished.output = test::read_file(out_path);
  finished.errors = test::read_file(err_path);
  return finished;
}

std::string data_file(const std::string& name) {
  return (std::filesystem::path(REPORT_DATA_DIR) / name).string();
}

TEST(AggregateCommand, MalformedThresholdFailsBeforeInput) {
  struct Case {
    std::string flag;
    std::string value;
  };
  for (const Case& c : {Case{"--min-throughput", "10k"}, Case{"--max-p99-ms", "abc"}}) {
    Finished finished = run_with_open_stdin({c.flag, c.value}, std::chrono::seconds(10));

    ASSERT_TRUE(finished.exit_code.has_value()) << c.flag << " waited for input";
    EXPECT_EQ(*finished.exit_code, kExitUsage) << c.flag;
    EXPECT_NE(finished.errors.find(c.flag), std::string::npos) << finished.errors;
    EXPECT_NE(finished.errors.find("'" + c.value + "'"), std::string::npos) << finished.errors;
    EXPECT_TRUE(finished.output.empty()) << finished.output;
  }
}

TEST(AggregateCommand, ReadsFilesAndPrintsJson) {
  Finished finished =
      run_with_open_stdin({"--json", "--min-throughput", "400", data_file("back_to_back.txt")},
                          std::chrono::seconds(10));

  ASSERT_TRUE(finished.exit_code.has_value());
  EXPECT_EQ(*finished.exit_code, kExitOk) << finished.errors;
  EXPECT_NE(finished.output.find(R"("throughput":500,)"), std::string::npos) << finished.output;
  EXPECT_NE(finished.output.find(R"("window_periods":2)"), std::string::npos);
}

TEST(AggregateCommand, MissedThresholdExitsWithItsCode) {
  Finished finished = run_with_open_stdin({"--max-p99-ms", "1", data_file("back_to_back.txt")},
                                          std::chrono::seconds(10));

  ASSERT_TRUE(finished.exit_code.has_value());
  EXPECT_EQ(*finished.exit_code, kExitThresholdMissed);
  EXPECT_NE(finished.output.find("Threshold missed"), std::string::npos) << finished.output;
}

TEST(AggregateCommand, UnreadableFileIsAFailure) {
  Finished finished = run_with_open_stdin({"/nonexistent/results.txt"}, std::chrono::seconds(10));

  ASSERT_TRUE(finished.exit_code.has_value());
  EXPECT_EQ(*finished.exit_code, kExitFailure);
  EXPECT_NE(finished.errors.find("/nonexistent/results.txt"), std::string::npos);
}

}  // namespace
}  // namespace hft::report
