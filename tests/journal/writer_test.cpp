#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <future>
#include <stdexcept>
#include <string>

#include "journal/journal.h"
#include "journal_test_util.h"
#include "support.h"

namespace hft::journal {
namespace {

using journal_test::make_payload;
using journal_test::replay_all;
using journal_test::type_for;
using journal_test::varying_size;

constexpr auto kWaitTimeout = std::chrono::seconds(30);

std::unique_ptr<JournalWriter> open_writer(const std::filesystem::path& dir,
                                           JournalOptions options = {}) {
  OpenResult opened = JournalWriter::open(dir, std::move(options));
  EXPECT_NE(opened.writer, nullptr) << opened.error;
  return std::move(opened.writer);
}

std::uint64_t append_varying(JournalWriter& writer) {
  const std::uint64_t sequence = writer.next_sequence();
  return writer.append(type_for(sequence), make_payload(sequence, varying_size(sequence)));
}

// Reads up to `size` bytes from a pipe, waiting at most until `deadline`.
std::string read_pipe_until(int fd, std::size_t size,
                            std::chrono::steady_clock::time_point deadline) {
  std::string data;
  while (data.size() < size) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd descriptor{fd, POLLIN, 0};
    if (::poll(&descriptor, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[4096];
    const ssize_t got = ::read(fd, buffer, std::min(sizeof(buffer), size - data.size()));
    if (got <= 0) break;
    data.append(buffer, static_cast<std::size_t>(got));
  }
  return data;
}

// Waits for a forked child to exit, killing it after `timeout`. Returns its wait status.
int wait_child(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "child " << pid << " did not exit in time and was killed";
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status;
}

TEST(JournalWriter, CommitReportsDurableSequence) {
  test::TempDir temp;
  auto writer = open_writer(temp.path());
  ASSERT_NE(writer, nullptr);

  const std::uint64_t first = append_varying(*writer);
  const std::uint64_t second = append_varying(*writer);
  std::promise<CommitOutcome> done;
  writer->commit([&](const CommitOutcome& outcome) { done.set_value(outcome); });

  std::future<CommitOutcome> future = done.get_future();
  ASSERT_EQ(future.wait_for(kWaitTimeout), std::future_status::ready);
  const CommitOutcome outcome = future.get();
  EXPECT_TRUE(outcome.ok);
  EXPECT_EQ(first, 1U);
  EXPECT_EQ(outcome.durable_sequence, second);
  EXPECT_EQ(writer->durable_sequence(), second);
  EXPECT_FALSE(writer->failed());

  const JournalStats stats = writer->stats();
  EXPECT_EQ(stats.records_written, 2U);
  EXPECT_EQ(stats.commits, 1U);
  EXPECT_EQ(stats.fsync_count, 1U);
  EXPECT_EQ(stats.segments_created, 1U);
  EXPECT_EQ(stats.bytes_written, std::filesystem::file_size(temp.path() / "journal-000001.log"));
  std::uint64_t bucketed = 0;
  for (std::uint64_t count : stats.fsync_latency_buckets) bucketed += count;
  EXPECT_EQ(bucketed, stats.fsync_count);
  EXPECT_EQ(writer->close(), "");
}

TEST(JournalWriter, GroupsCommitsThatArriveDuringSync) {
  test::TempDir temp;
  constexpr std::size_t kCommits = 100;

  // The first fdatasync waits until every commit is queued, as a slow disk would make it.
  std::promise<void> all_queued;
  std::shared_future<void> all_queued_future = all_queued.get_future().share();
  std::atomic<int> syncs{0};
  JournalOptions options;
  options.before_sync = [&] {
    if (syncs.fetch_add(1) == 0) {
      EXPECT_EQ(all_queued_future.wait_for(kWaitTimeout), std::future_status::ready);
    }
  };
  auto writer = open_writer(temp.path(), options);
  ASSERT_NE(writer, nullptr);

  journal_test::OutcomeLog log;
  std::vector<std::uint64_t> last_sequence_of_commit;
  for (std::size_t i = 0; i < kCommits; ++i) {
    append_varying(*writer);
    last_sequence_of_commit.push_back(append_varying(*writer));
    writer->commit(log.callback(i));
  }
  all_queued.set_value();
  ASSERT_TRUE(log.wait_for_count(kCommits, kWaitTimeout));

  const std::vector<journal_test::OutcomeLog::Entry> entries = log.entries();
  ASSERT_EQ(entries.size(), kCommits);
  std::uint64_t previous_durable = 0;
  for (std::size_t i = 0; i < kCommits; ++i) {
    EXPECT_EQ(entries[i].commit_index, i) << "callbacks run in commit order, once each";
    EXPECT_TRUE(entries[i].outcome.ok);
    EXPECT_GE(entries[i].outcome.durable_sequence, last_sequence_of_commit[i]);
    EXPECT_GE(entries[i].outcome.durable_sequence, previous_durable);
    previous_durable = entries[i].outcome.durable_sequence;
  }

  const JournalStats stats = writer->stats();
  EXPECT_EQ(stats.commits, kCommits);
  EXPECT_LT(stats.fsync_count, kCommits);
  EXPECT_LE(stats.fsync_count, 2U);
  EXPECT_LT(stats.write_groups, kCommits);
  EXPECT_EQ(writer->close(), "");
  EXPECT_EQ(log.entries().size(), kCommits);
}

TEST(JournalWriter, EmptyCommitStillCallsBack) {
  test::TempDir temp;
  auto writer = open_writer(temp.path());
  ASSERT_NE(writer, nullptr);

  journal_test::OutcomeLog log;
  writer->commit(log.callback(0));
  ASSERT_TRUE(log.wait_for_count(1, kWaitTimeout));
  EXPECT_TRUE(log.entries()[0].outcome.ok);
  EXPECT_EQ(log.entries()[0].outcome.durable_sequence, 0U);
  EXPECT_EQ(writer->stats().fsync_count, 0U);
  EXPECT_EQ(writer->close(), "");
}

class JournalWriterClose : public ::testing::TestWithParam<bool> {};

TEST_P(JournalWriterClose, SyncsUncommittedRecords) {
  test::TempDir temp;
  JournalOptions options;
  options.fsync = GetParam();
  auto writer = open_writer(temp.path(), options);
  ASSERT_NE(writer, nullptr);

  for (int i = 0; i < 1000; ++i) append_varying(*writer);
  EXPECT_EQ(writer->close(), "");
  EXPECT_EQ(writer->close(), "") << "a second close returns the same result";
  EXPECT_EQ(writer->durable_sequence(), 1000U);
  EXPECT_GE(writer->stats().fsync_count, 1U);
  EXPECT_THROW(writer->append(1, {}), std::logic_error);

  const journal_test::Replayed replayed = replay_all(temp.path());
  ASSERT_TRUE(replayed.result.ok()) << replayed.result.error;
  EXPECT_EQ(replayed.result.records, 1000U);
}

INSTANTIATE_TEST_SUITE_P(FsyncOnAndOff, JournalWriterClose, ::testing::Bool());

TEST(JournalWriter, AppendRejectsOversizedPayload) {
  test::TempDir temp;
  auto writer = open_writer(temp.path());
  ASSERT_NE(writer, nullptr);

  const std::vector<std::byte> payload(kMaxPayloadBytes + 1);
  EXPECT_THROW(writer->append(1, payload), std::length_error);
  EXPECT_EQ(writer->next_sequence(), 1U);
  EXPECT_EQ(writer->close(), "");
}

// A child process appends and commits until it is killed. Every sequence it reported durable
// from a commit callback must be in the journal afterwards.
TEST(JournalWriter, KilledProcessKeepsEveryDurableRecord) {
  test::TempDir temp;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    OpenResult opened = JournalWriter::open(temp.path(), {});
    if (opened.writer == nullptr) ::_exit(2);
    const int report_fd = fds[1];
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < give_up) {
      for (int i = 0; i < 10; ++i) append_varying(*opened.writer);
      opened.writer->commit([report_fd](const CommitOutcome& outcome) {
        if (!outcome.ok) ::_exit(3);
        const std::uint64_t sequence = outcome.durable_sequence;
        if (::write(report_fd, &sequence, sizeof(sequence)) != sizeof(sequence)) ::_exit(4);
      });
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ::_exit(5);
  }

  ::close(fds[1]);
  constexpr std::size_t kReportsBeforeKill = 200;
  const auto deadline = std::chrono::steady_clock::now() + kWaitTimeout;
  std::string reports = read_pipe_until(fds[0], kReportsBeforeKill * 8, deadline);
  ::kill(pid, SIGKILL);
  const int status = wait_child(pid, kWaitTimeout);
  // Reports written before the kill are still in the pipe.
  reports +=
      read_pipe_until(fds[0], SIZE_MAX, std::chrono::steady_clock::now() + std::chrono::seconds(1));
  ::close(fds[0]);

  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with code " << WEXITSTATUS(status);
  ASSERT_EQ(reports.size() % 8, 0U);
  ASSERT_GE(reports.size() / 8, kReportsBeforeKill);
  std::uint64_t max_durable = 0;
  for (std::size_t offset = 0; offset < reports.size(); offset += 8) {
    std::uint64_t sequence = 0;
    std::memcpy(&sequence, reports.data() + offset, 8);
    EXPECT_GE(sequence, max_durable) << "durable sequences never go back";
    max_durable = std::max(max_durable, sequence);
  }

  const journal_test::Replayed replayed = replay_all(temp.path());
  ASSERT_TRUE(replayed.result.ok()) << replayed.result.error;
  EXPECT_GE(replayed.result.last_sequence, max_durable);
  ASSERT_EQ(replayed.records.size(), replayed.result.last_sequence);
  for (std::size_t i = 0; i < replayed.records.size(); ++i) {
    const std::uint64_t sequence = i + 1;
    ASSERT_EQ(replayed.records[i].sequence, sequence);
    ASSERT_EQ(replayed.records[i].payload, make_payload(sequence, varying_size(sequence)))
        << "sequence " << sequence;
  }
}

// In a child process whose file size limit is 16 KiB, writes fail with EFBIG. The child checks
// that the writer stops for good and reports "ok" or what went wrong through a pipe.
TEST(JournalWriter, WriteFailureFailsEveryLaterCommit) {
  test::TempDir temp;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    const auto report = [&](const std::string& text) {
      (void)!::write(fds[1], text.data(), text.size());
      ::_exit(0);
    };
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{16 * 1024, 16 * 1024};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) report("setrlimit failed");

    OpenResult opened = JournalWriter::open(temp.path(), {});
    if (opened.writer == nullptr) report("open failed: " + opened.error);
    JournalWriter& writer = *opened.writer;
    journal_test::OutcomeLog log;
    constexpr std::size_t kCommits = 40;
    for (std::size_t i = 0; i < kCommits; ++i) {
      const std::uint64_t sequence = writer.next_sequence();
      writer.append(1, make_payload(sequence, 1000));
      writer.commit(log.callback(i));
      if (!log.wait_for_count(i + 1, kWaitTimeout)) report("callback timed out");
    }

    bool seen_failure = false;
    std::uint64_t last_ok_durable = 0;
    for (const journal_test::OutcomeLog::Entry& entry : log.entries()) {
      if (entry.outcome.ok && seen_failure) report("a commit succeeded after a failure");
      if (entry.outcome.ok) last_ok_durable = entry.outcome.durable_sequence;
      if (!entry.outcome.ok) {
        seen_failure = true;
        if (entry.outcome.durable_sequence != last_ok_durable) {
          report("failed commit reported durable sequence " +
                 std::to_string(entry.outcome.durable_sequence));
        }
      }
    }
    if (!seen_failure) report("no commit failed");
    if (!writer.failed()) report("writer not marked failed");
    const std::string error = writer.error();
    if (error.find("write") == std::string::npos ||
        error.find("journal-000001.log") == std::string::npos ||
        error.find(std::strerror(EFBIG)) == std::string::npos) {
      report("unexpected error text: " + error);
    }
    if (writer.close() != error) report("close did not return the error");
    report("ok");
  }

  ::close(fds[1]);
  const std::string result =
      read_pipe_until(fds[0], 4096, std::chrono::steady_clock::now() + kWaitTimeout);
  ::close(fds[0]);
  const int status = wait_child(pid, kWaitTimeout);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(result, "ok");

  // What reached the disk before the failure replays, cut at the last whole record.
  const journal_test::Replayed replayed = replay_all(temp.path());
  EXPECT_TRUE(replayed.result.ok()) << replayed.result.error;
  EXPECT_GT(replayed.result.records, 0U);
}

}  // namespace
}  // namespace hft::journal
