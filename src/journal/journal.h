// The order journal: an append-only log of checksummed binary records with group commit.
//
// The server appends every state-changing input (users, new orders, cancels) as an opaque
// record and acknowledges durable orders only after the fsync that covers them. At start it
// rebuilds its state by replaying the journal through the deterministic matching engine.
//
// On disk: a directory of segment files `journal-000001.log`, `journal-000002.log`, ... in
// sequence order. A segment contains whole records back to back, with no file header. A segment
// is closed once the next record would push it past `JournalOptions::segment_size_bytes`, and a
// record larger than the limit gets a segment of its own. Record layout, little-endian:
//
//   offset  size  field
//        0     4  magic 0x4A544648 ("HFTJ" in file order)
//        4     4  payload size in bytes, at most kMaxPayloadBytes
//        8     8  sequence: +1 per record across segments; the writer starts a journal at 1
//       16     2  type, chosen by the caller
//       18     2  reserved, 0
//       20     4  CRC32C (Castagnoli) over bytes 0..20 of the header and the payload
//       24     n  payload
//
// A lock file `journal.lock` (flock) keeps two processes from using one directory at once.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace hft::journal {

inline constexpr std::size_t kRecordHeaderBytes = 24;
inline constexpr std::uint32_t kRecordMagic = 0x4A544648;
inline constexpr std::uint32_t kMaxPayloadBytes = 16U << 20;

// One record as replay delivers it. `payload` points into the mapped segment file and is valid
// only during the callback; copy what must outlive it.
struct Record {
  std::uint64_t sequence = 0;
  std::uint16_t type = 0;
  std::span<const std::byte> payload;
};

// The outcome of replay_journal. `error` is empty on success.
struct ReplayResult {
  std::uint64_t records = 0;
  // Sequence of the last valid record, 0 for an empty journal.
  std::uint64_t last_sequence = 0;
  std::uint32_t segments = 0;

  // A torn or corrupt tail (a crash in the middle of a write) that was cut off. The segment at
  // `truncated_path` now ends at `truncated_offset`; `bytes_truncated` also counts the bytes of
  // later segments that held no valid record and were removed.
  std::uint64_t bytes_truncated = 0;
  std::filesystem::path truncated_path;
  std::uint64_t truncated_offset = 0;
  std::string truncation_reason;

  // Why replay stopped: an I/O failure, an invalid record followed by valid ones, a sequence
  // gap or a missing segment. The message names the file and the byte offset.
  std::string error;

  [[nodiscard]] bool ok() const { return error.empty(); }
};

// Reads every valid record of the journal in `dir` in sequence order and calls `on_record` for
// each, on the calling thread.
//
// A missing or empty directory is an empty journal, not an error. An invalid record with no
// valid record after it in any segment is a torn write. Replay truncates its segment to the last
// valid record, removes later segments and reports the cut, so a writer can append after it.
//
// An invalid record followed by a valid one, a sequence that does not follow its predecessor or
// a missing segment number stops the replay with `error` set and changes no file. `on_record`
// has then already been called for the records before the fault, so the caller must discard
// what it built. Replay takes the directory lock for its duration and fails if a JournalWriter
// holds it. Exceptions thrown by `on_record` propagate.
[[nodiscard]] ReplayResult replay_journal(const std::filesystem::path& dir,
                                          const std::function<void(const Record&)>& on_record);

struct JournalOptions {
  // false: records are written to the page cache without fdatasync. They survive a crash of the
  // process but not of the machine.
  // NOTE: the kernel may write pages back out of order, so after a machine crash without fsync
  // replay can find a damaged record before valid ones and stop with an error.
  bool fsync = true;
  // A segment is closed once the next record would push it past this size.
  std::uint64_t segment_size_bytes = 64ULL << 20;
  // Called on the flusher thread before every fdatasync, for instrumentation and tests that
  // need a slow disk. Empty by default.
  std::function<void()> before_sync;
};

// Passed to a commit callback.
struct CommitOutcome {
  // false: the writer has failed (JournalWriter::error() returns the reason) and the records of
  // this commit may not be on disk. Every later commit reports failure too.
  bool ok = false;
  // Every record with a sequence up to this one is written (and synced when fsync is on).
  std::uint64_t durable_sequence = 0;
};

using CommitCallback = std::function<void(const CommitOutcome&)>;

// Upper bounds, in microseconds, of the fsync latency histogram buckets. The last bucket of
// JournalStats::fsync_latency_buckets counts everything above the last bound.
inline constexpr std::array<std::uint64_t, 14> kFsyncBucketUpperUs = {
    50,     100,    250,    500,     1'000,   2'500,   5'000,
    10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000};

// Counters for /metrics. Each field is read atomically, the set as a whole is not a snapshot.
struct JournalStats {
  std::uint64_t records_written = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t commits = 0;
  // Groups of commits written together; commits / write_groups is the group commit factor.
  std::uint64_t write_groups = 0;
  std::uint64_t fsync_count = 0;
  std::uint64_t fsync_total_ns = 0;
  std::uint64_t fsync_max_ns = 0;
  std::uint64_t segments_created = 0;
  // Per-bucket counts, not cumulative: bucket i counts latencies <= kFsyncBucketUpperUs[i].
  std::array<std::uint64_t, kFsyncBucketUpperUs.size() + 1> fsync_latency_buckets{};
};

class JournalWriter;

// The outcome of JournalWriter::open: `writer` is set on success, `error` otherwise.
struct OpenResult {
  std::unique_ptr<JournalWriter> writer;
  std::string error;
};

// Appends records to the journal in a directory, with group commit on a background flusher.
//
// Threads: append(), commit() and close() are called by one producer thread (the batch
// worker); they are not safe to call concurrently with each other. durable_sequence(),
// failed(), error() and stats() are safe from any thread. Commit callbacks run on the flusher
// thread, in commit order, each exactly once. They must return quickly and must not throw or
// call append(), commit() or close().
//
// Failure: a failed open, write or fsync is reported with the path and the errno text. After a
// failed write or fsync the writer stops writing for good: it never retries an fsync on the same
// data, because Linux may already have dropped the dirty pages, and every pending and later
// commit gets `ok == false`.
class JournalWriter {
 public:
  // Opens the journal in `dir` (created if missing) for appending after its last record. Run
  // replay_journal first: open fails if the last segment ends in an invalid record. Holds the
  // directory lock until close. Fails if `options.segment_size_bytes` is 0.
  [[nodiscard]] static OpenResult open(const std::filesystem::path& dir, JournalOptions options);

  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  // Calls close().
  ~JournalWriter();

  // Encodes a record into the producer's buffer and returns its sequence. Nothing reaches the
  // file before the next commit(). Throws std::length_error if the payload is larger than
  // kMaxPayloadBytes.
  std::uint64_t append(std::uint16_t type, std::span<const std::byte> payload);

  // Hands every record appended since the last commit to the flusher thread and returns at
  // once. The flusher writes them, runs fdatasync (when enabled) and then calls `on_durable`.
  // Commits that arrive while a sync runs are written and synced together by the next one. An
  // empty callback is allowed.
  void commit(CommitCallback on_durable);

  // Commits what is left, waits until the flusher has written and synced it and has called
  // every callback, then joins the flusher and releases the lock. Returns the writer's error,
  // empty when every record is on disk. Calling it again returns the same text.
  std::string close();

  // Returns the highest sequence that is written and synced (only written, with fsync off). It
  // reaches next_sequence() - 1 once every commit has completed.
  [[nodiscard]] std::uint64_t durable_sequence() const;
  [[nodiscard]] std::uint64_t next_sequence() const { return next_sequence_; }
  [[nodiscard]] bool failed() const;
  [[nodiscard]] std::string error() const;
  [[nodiscard]] JournalStats stats() const;
  [[nodiscard]] const std::filesystem::path& directory() const { return dir_; }

 private:
  struct PendingCommit {
    std::vector<std::byte> records;
    std::uint64_t record_count = 0;
    std::uint64_t last_sequence = 0;
    CommitCallback on_durable;
  };
  struct Counters;
  class Segment;

  JournalWriter(std::filesystem::path dir, JournalOptions options, int lock_fd);

  void run_flusher();
  [[nodiscard]] bool write_group(std::deque<PendingCommit>& group);
  [[nodiscard]] bool write_records(std::span<const std::byte> records);
  [[nodiscard]] bool roll_segment();
  [[nodiscard]] bool sync_current();
  void fail(std::string message);

  const std::filesystem::path dir_;
  const JournalOptions options_;
  int lock_fd_ = -1;

  // Producer thread only.
  std::vector<std::byte> open_buffer_;
  std::uint64_t next_sequence_ = 1;
  std::uint64_t open_buffer_records_ = 0;
  bool closed_ = false;
  std::string close_error_;

  // Flusher thread only.
  std::unique_ptr<Segment> segment_;
  std::uint32_t segment_number_ = 0;

  // Shared, guarded by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable wake_flusher_;
  std::deque<PendingCommit> queue_;
  std::vector<std::vector<std::byte>> spare_buffers_;
  bool stopping_ = false;
  std::string error_;

  std::atomic<std::uint64_t> durable_sequence_{0};
  std::atomic<bool> failed_{false};
  std::unique_ptr<Counters> counters_;
  std::thread flusher_;
};

}  // namespace hft::journal
