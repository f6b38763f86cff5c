// Journal throughput and sync latency on the disk of the benchmark directory.
//
// The directory is $JOURNAL_BENCH_DIR when set, otherwise a fresh folder under the system temp
// directory. Point it at the disk of `--data-dir`, because on a tmpfs fdatasync costs nothing.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "journal/journal.h"

namespace {

using Clock = std::chrono::steady_clock;

std::filesystem::path make_run_dir() {
  std::filesystem::path base = std::filesystem::temp_directory_path();
  if (const char* configured = std::getenv("JOURNAL_BENCH_DIR"); configured != nullptr) {
    base = configured;
  }
  std::filesystem::create_directories(base);
  std::string pattern = (base / "hft-journal-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed under " + base.string());
  }
  return pattern;
}

double percentile_us(std::vector<double>& samples_us, double fraction) {
  if (samples_us.empty()) return 0;
  const auto index =
      static_cast<std::size_t>(fraction * static_cast<double>(samples_us.size() - 1));
  std::nth_element(samples_us.begin(), samples_us.begin() + static_cast<std::ptrdiff_t>(index),
                   samples_us.end());
  return samples_us[index];
}

// Waits for commit callbacks from the flusher thread and records commit-to-callback latency.
class DurableTracker {
 public:
  hft::journal::CommitCallback callback(Clock::time_point committed_at) {
    return [this, committed_at](const hft::journal::CommitOutcome& outcome) {
      const double latency_us =
          std::chrono::duration<double, std::micro>(Clock::now() - committed_at).count();
      std::lock_guard lock(mutex_);
      if (!outcome.ok) failed_ = true;
      latencies_us_.push_back(latency_us);
      ++completed_;
      changed_.notify_all();
    };
  }

  void wait_until_completed(std::uint64_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return completed_ >= count; });
  }

  bool failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
  }

  std::vector<double> take_latencies_us() {
    std::lock_guard lock(mutex_);
    return std::move(latencies_us_);
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t completed_ = 0;
  bool failed_ = false;
  std::vector<double> latencies_us_;
};

// Arguments: payload bytes, fsync (0 or 1), records per commit, commits in flight. One iteration
// appends one commit's records. The producer waits for the disk only when the given number of
// commits is still open, as a bounded queue in front of the server's batch worker would make it.
void BM_AppendCommit(benchmark::State& state) {
  const auto payload_bytes = static_cast<std::size_t>(state.range(0));
  const bool fsync = state.range(1) != 0;
  const auto records_per_commit = static_cast<std::uint64_t>(state.range(2));
  const auto max_in_flight = static_cast<std::uint64_t>(state.range(3));

  const std::filesystem::path dir = make_run_dir();
  hft::journal::JournalOptions options;
  options.fsync = fsync;
  hft::journal::OpenResult opened = hft::journal::JournalWriter::open(dir, options);
  if (opened.writer == nullptr) {
    state.SkipWithError(opened.error.c_str());
    return;
  }
  hft::journal::JournalWriter& writer = *opened.writer;
  const std::vector<std::byte> payload(payload_bytes, std::byte{0x5A});
  DurableTracker tracker;

  std::uint64_t commits = 0;
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < records_per_commit; ++i) {
      benchmark::DoNotOptimize(writer.append(1, payload));
    }
    writer.commit(tracker.callback(Clock::now()));
    ++commits;
    if (commits > max_in_flight) tracker.wait_until_completed(commits - max_in_flight);
  }
  tracker.wait_until_completed(commits);

  const hft::journal::JournalStats stats = writer.stats();
  std::vector<double> latencies_us = tracker.take_latencies_us();
  if (tracker.failed()) state.SkipWithError(writer.error().c_str());
  (void)writer.close();
  std::filesystem::remove_all(dir);

  const auto records = static_cast<std::int64_t>(commits * records_per_commit);
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(
      records * static_cast<std::int64_t>(payload_bytes + hft::journal::kRecordHeaderBytes));
  state.counters["commits_per_fsync"] =
      stats.fsync_count == 0
          ? 0.0
          : static_cast<double>(stats.commits) / static_cast<double>(stats.fsync_count);
  state.counters["commit_p50_us"] = percentile_us(latencies_us, 0.50);
  state.counters["commit_p99_us"] = percentile_us(latencies_us, 0.99);
}

BENCHMARK(BM_AppendCommit)
    ->ArgNames({"payload_bytes", "fsync", "records_per_commit", "in_flight"})
    ->ArgsProduct({{64, 256}, {0, 1}, {1, 64}, {4}})
    ->Args({64, 1, 1, 64})
    ->Args({256, 1, 1, 64})
    ->UseRealTime()
    ->MinTime(2.0);

// Raw cost of one append-and-sync cycle: write `write_bytes` at the end of a file, then
// fdatasync. Reports the latency distribution of the pair.
void BM_FdatasyncLatency(benchmark::State& state) {
  const auto write_bytes = static_cast<std::size_t>(state.range(0));
  const std::filesystem::path dir = make_run_dir();
  const std::filesystem::path path = dir / "sync-probe.log";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    state.SkipWithError(("open " + path.string() + " failed").c_str());
    return;
  }
  const std::vector<char> block(write_bytes, 'x');
  std::vector<double> latencies_us;

  for (auto _ : state) {
    const auto start = Clock::now();
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
    const auto elapsed = Clock::now() - start;
    state.SetIterationTime(std::chrono::duration<double>(elapsed).count());
    latencies_us.push_back(std::chrono::duration<double, std::micro>(elapsed).count());
  }
  ::close(fd);
  std::filesystem::remove_all(dir);

  state.counters["p50_us"] = percentile_us(latencies_us, 0.50);
  state.counters["p99_us"] = percentile_us(latencies_us, 0.99);
  state.counters["max_us"] =
      latencies_us.empty() ? 0.0 : *std::max_element(latencies_us.begin(), latencies_us.end());
}

BENCHMARK(BM_FdatasyncLatency)
    ->ArgName("write_bytes")
    ->Arg(256)
    ->Arg(4096)
    ->Arg(65536)
    ->UseManualTime()
    ->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
