// StoreWriter: the PostgreSQL sink. It takes batches of rows from the engine's thread through a
// bounded in-memory queue and writes them on its own thread, off the matching path.
//
// Each transaction COPYs the rows of one or more batches into temporary staging tables and
// upserts them into the tables with INSERT ... SELECT ... ON CONFLICT DO UPDATE, because orders
// and positions change state (trades and users are only inserted). Before the same COMMIT it sets
// the sink's row in store_progress to the last batch's journal sequence. The database therefore
// always holds exactly the rows up to last_written_sequence(). The journal stays the source of
// truth: after a crash the server replays its journal records after that sequence into a new
// writer.
//
// A lost connection is retried with exponential backoff, each retry logged on the spdlog logger
// "store". Batches wait in the queue meanwhile and are written once PostgreSQL is back; after
// reconnecting the writer rereads the progress row, so a COMMIT whose reply was lost is not
// written twice. Upserts are idempotent as well.
//
// Memory: the queue holds at most `max_queued_rows` rows (a batch larger than that is taken
// when the queue is empty). submit() blocks the producer while the queue is full, try_submit()
// returns kQueueFull and submit_within() waits a bounded time; none drops a batch.
// NOTE: an SQL error on a working connection (a constraint violation, a text with a NUL byte) is
// retried like a lost connection, so one bad row stops the sink until an operator fixes it.
//
// Threads: the submit calls and close() are for one producer thread; the getters are safe
// from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/connection.h"
#include "store/postgres_url.h"
#include "store/rows.h"

namespace hft::store {

struct WriterOptions {
  PostgresUrl url;
  // The key of this writer's row in store_progress; one per journal.
  std::string sink = "journal";
  // Bound of the queue. At roughly 200 bytes per row (an estimate: a row's fields plus its
  // strings' heap blocks) the default is about 200 MB.
  std::size_t max_queued_rows = 1'000'000;
  // Rows per transaction, rounded up to whole batches.
  std::size_t max_rows_per_transaction = 20'000;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds reconnect_backoff_min{100};
  std::chrono::milliseconds reconnect_backoff_max{5000};
};

enum class SubmitStatus : std::uint8_t {
  kQueued,
  kAlreadyWritten,  // the sequence is not above last_written_sequence(); nothing to do
  kOutOfOrder,      // the sequence is not above the previous batch's
  kQueueFull,       // try_submit() and submit_within() only
  kClosed,          // close() was called
};

struct WriterStats {
  std::uint64_t last_written_sequence = 0;
  std::uint64_t last_submitted_sequence = 0;
  std::uint64_t queued_batches = 0;
  std::uint64_t queued_rows = 0;
  std::uint64_t rows_written = 0;
  std::uint64_t transactions = 0;
  std::uint64_t failed_transactions = 0;
  std::uint64_t reconnects = 0;
  bool connected = false;
};

class StoreWriter;

struct WriterOpenResult {
  std::unique_ptr<StoreWriter> writer;
  std::string error;
};

class StoreWriter {
 public:
  // Connects, creates or migrates the schema, reads the sink's progress and starts the writer
  // thread. Fails when PostgreSQL is unreachable or the migration fails, so a server with a bad
  // --db does not start.
  [[nodiscard]] static WriterOpenResult open(WriterOptions options);

  // Calls close() with a 10 s limit.
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Queues a batch, waiting while the queue is full.
  [[nodiscard]] SubmitStatus submit(Batch batch);
  // Queues a batch, or returns kQueueFull at once.
  [[nodiscard]] SubmitStatus try_submit(Batch batch);
  // Queues a batch, waiting up to `timeout` while the queue is full. Moves from `batch` only
  // when it returns kQueued, so the caller can retry with the same batch after kQueueFull.
  [[nodiscard]] SubmitStatus submit_within(Batch& batch, std::chrono::milliseconds timeout);

  // Writes only batches up to `sequence` from now on; later calls raise the limit, never lower
  // it. Before the first call every queued batch may be written. The server passes the journal's
  // durable sequence, so the database contains no row whose journal record a crash of the
  // process could lose (nor a crash of the machine, when the journal runs fdatasync).
  void set_durable_sequence(std::uint64_t sequence);

  // Waits up to `timeout` for the queue to be written, then stops the writer thread. Returns the
  // number of batches left unwritten (0 on a clean stop); their rows are still in the journal
  // after last_written_sequence(). Later calls return 0 at once.
  std::size_t close(std::chrono::milliseconds timeout);

  // The journal sequence up to which every row is committed.
  [[nodiscard]] std::uint64_t last_written_sequence() const {
    return last_written_.load(std::memory_order_acquire);
  }
  // `journal_sequence` minus last_written_sequence(), 0 when the store is ahead.
  [[nodiscard]] std::uint64_t lag(std::uint64_t journal_sequence) const;
  [[nodiscard]] WriterStats stats() const;
  // The last error of the writer thread; empty once a transaction succeeds again.
  [[nodiscard]] std::string last_error() const;

 private:
  explicit StoreWriter(WriterOptions options);

  // Waits up to `timeout` for space; std::chrono::milliseconds::max() waits without a limit.
  [[nodiscard]] SubmitStatus enqueue(Batch& batch, std::chrono::milliseconds timeout);
  void run();
  [[nodiscard]] bool ensure_connected();
  [[nodiscard]] std::string prepare_session();
  [[nodiscard]] std::string read_progress(std::uint64_t& sequence);
  [[nodiscard]] std::string write(const std::deque<Batch>& batches);
  void back_off();
  void set_error(std::string error);

  const WriterOptions options_;

  std::unique_ptr<Connection> connection_;  // writer thread only, after open()
  std::chrono::milliseconds backoff_;       // writer thread only

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable space_ready_;
  std::deque<Batch> queue_;            // guarded by mutex_
  std::size_t queued_rows_ = 0;        // guarded by mutex_, counts the batches being written too
  std::size_t batches_in_flight_ = 0;  // guarded by mutex_
  std::uint64_t last_submitted_ = 0;   // guarded by mutex_
  bool closing_ = false;               // guarded by mutex_
  bool stop_now_ = false;              // guarded by mutex_
  std::uint64_t durable_limit_ = UINT64_MAX;  // guarded by mutex_
  bool durable_limit_set_ = false;            // guarded by mutex_
  std::string last_error_;                    // guarded by mutex_

  std::atomic<std::uint64_t> last_written_{0};
  std::atomic<std::uint64_t> rows_written_{0};
  std::atomic<std::uint64_t> transactions_{0};
  std::atomic<std::uint64_t> failed_transactions_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<bool> connected_{false};
  std::thread thread_;
};

}  // namespace hft::store
