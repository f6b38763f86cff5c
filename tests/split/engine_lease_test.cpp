// One engine per Redis. A second `hft serve --role engine` on another data dir is refused while
// the first runs. An engine restarted after SIGKILL on its own data dir takes its lease back at
// once, and a clean stop frees the lease for another engine.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "redis_server.h"
#include "support.h"
#include "watchdog.h"

namespace hft::split {
namespace {

using test::ChildProcess;
using test::RedisServer;
using test::ServerProcess;
using test::TempDir;
using test::Watchdog;
using namespace std::chrono_literals;

std::vector<std::string> engine_args(const RedisServer& redis) {
  return {"--role", "engine", "--queue", redis.url(), "--threads", "1"};
}

// Runs an engine on `data_dir` that is expected to exit by itself; returns its exit code and
// fills `output` with its log.
std::optional<int> run_refused_engine(const RedisServer& redis,
                                      const std::filesystem::path& data_dir, std::string& output) {
  std::filesystem::path log = data_dir.parent_path() / "refused.log";
  ChildProcess::Options options;
  options.args = {test::hft_binary(), "serve",     "--role",     "engine",
                  "--queue",          redis.url(), "--port",     "0",
                  "--host",           "127.0.0.1", "--data-dir", data_dir.string()};
  options.stdout_mode = ChildProcess::Output::kFile;
  options.stderr_mode = ChildProcess::Output::kFile;
  options.stdout_path = log;
  options.stderr_path = log;
  ChildProcess process(options);
  std::optional<int> code = process.wait_for_exit(20s);
  output = test::read_file(log);
  return code;
}

TEST(EngineLease, SecondEngineIsRefusedWhileTheFirstRuns) {
  if (auto missing = RedisServer::missing_binary()) GTEST_SKIP() << *missing;
  Watchdog watchdog("EngineLease.SecondEngineIsRefusedWhileTheFirstRuns", 90s);
  RedisServer redis;
  TempDir dir;
  ServerProcess first(engine_args(redis), dir.path() / "first");

  std::string output;
  std::optional<int> code = run_refused_engine(redis, dir.path() / "second", output);
  ASSERT_TRUE(code.has_value()) << "the second engine did not exit: " << output;
  EXPECT_EQ(*code, 1) << output;
  EXPECT_NE(output.find("another engine consumes the order streams"), std::string::npos) << output;
  EXPECT_NE(output.find((dir.path() / "first").string()), std::string::npos) << output;

  // SIGKILL leaves the lease in Redis; the same data dir takes it back without waiting.
  first.kill();
  auto restart_start = std::chrono::steady_clock::now();
  first.restart();
  EXPECT_LT(std::chrono::steady_clock::now() - restart_start, 8s);

  // A clean stop releases the lease, so another engine may start at once.
  ASSERT_EQ(first.stop(), 0);
  ServerProcess third(engine_args(redis), dir.path() / "third");
  EXPECT_EQ(third.stop(), 0) << third.log();
}

}  // namespace
}  // namespace hft::split
