// BatchWorker: the one thread that owns the matching engine. It takes batches of commands from
// the queue, appends them to the journal, applies them to the engine, publishes order states,
// books and positions, and commits the journal. The commit's callback runs on the journal's
// flusher thread and releases the replies that wait for durability.
//
// The same apply path rebuilds the state from the journal at start (replay()), so a restart
// reaches the state that the acknowledged commands produced.
//
// With a PostgreSQL sink (set_store()), each batch's rows go to the StoreWriter tagged with the
// journal sequence of the batch's last record; the writer's thread does the database work. Replay
// sends the rows of the records after the store's last written sequence, so rows lost to an
// outage or a crash arrive after a restart. Without a sink, no rows are collected.
//
// With a state sink (set_state_sink(), the engine role of a scaled-out deployment), each batch's
// changed order records, new users, book snapshots and position snapshots go to the sink once
// the journal reports the batch durable. Without a sink, nothing is collected.
//
// Thread-safety: replay() runs before start(); after start() only the worker thread touches the
// engine and the journal writer. stop() and the accessors may be called from any thread.
// Ownership: owns the engine, the journal writer and its thread; the queue, stores, view,
// metrics and StoreWriter are borrowed and must outlive the worker.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "engine/engine.h"
#include "gateway/commands.h"
#include "gateway/market_view.h"
#include "gateway/metrics.h"
#include "gateway/order_store.h"
#include "gateway/state_feed.h"
#include "gateway/user_directory.h"
#include "journal/journal.h"
#include "queue/bounded_queue.h"
#include "store/store_writer.h"

namespace hft::gateway {

using CommandQueue = queue::BoundedQueue<Command>;

struct BatchWorkerOptions {
  std::size_t batch_size = 1000;               // max orders per batch
  std::chrono::microseconds batch_timeout{0};  // wait for a fuller batch
};

// The outcome of replay(): counts for the start-up log, or an error that stops the start.
struct ReplaySummary {
  journal::ReplayResult journal;
  std::uint64_t users = 0;
  std::uint64_t orders = 0;
  std::uint64_t cancels = 0;
  std::uint64_t next_order_id = 1;
  // Records whose rows were sent to the store: those after its last written sequence.
  std::uint64_t store_records = 0;
  std::string error;
};

class StoreFeed;

// Receives the state that one batch changed, after the journal made the batch durable. publish()
// runs on the journal's flusher thread, so it must return quickly and must not throw.
class StateSink {
 public:
  virtual ~StateSink() = default;
  virtual void publish(StateChanges&& changes) = 0;
};

class BatchWorker {
 public:
  BatchWorker(engine::EngineConfig config, BatchWorkerOptions options, CommandQueue& queue,
              OrderStore& orders, UserDirectory& users, MarketView& market, Metrics& metrics);
  ~BatchWorker();
  BatchWorker(const BatchWorker&) = delete;
  BatchWorker& operator=(const BatchWorker&) = delete;

  // Sends every later batch's rows to `writer`. Call before replay(); null means no sink.
  void set_store(store::StoreWriter* writer);

  // Sends each later batch's changes to `sink`. Call after replay() and before start(); null
  // means no sink.
  void set_state_sink(StateSink* sink);

  // Replays the journal in `dir` into the engine and the stores, and sends the rows of records
  // after the store's last written sequence to the store.
  [[nodiscard]] ReplaySummary replay(const std::filesystem::path& dir);

  // Opens the journal for appending and starts the thread. Returns an error text on failure.
  [[nodiscard]] std::string start(const std::filesystem::path& dir, journal::JournalOptions options,
                                  CompletionSink completions);

  // Waits for the thread to process everything queued before the queue was closed, then closes
  // the journal (written and synced). Call after closing the queue. Returns the journal's error,
  // empty when every record is on disk.
  std::string stop();

  [[nodiscard]] bool alive() const;
  [[nodiscard]] bool journal_failed() const;
  [[nodiscard]] std::string journal_error() const;
  [[nodiscard]] journal::JournalStats journal_stats() const;
  [[nodiscard]] engine::EngineStats engine_stats() const;
  [[nodiscard]] const engine::EngineConfig& engine_config() const { return config_; }
  // The sink set by set_store(), or null.
  [[nodiscard]] const store::StoreWriter* store() const { return store_; }
  // The sequence of the last journal record appended (or replayed).
  [[nodiscard]] std::uint64_t last_journal_sequence() const {
    return last_journal_sequence_.load(std::memory_order_relaxed);
  }

 private:
  class Events;

  void run();
  void process_batch(std::vector<Command>& batch);
  // Applies one command to the engine and the stores; returns the completion data for a cancel.
  void apply(const Command& command, bool replaying, Completion& completion);
  void publish_snapshots();
  // Collects the records, users and snapshots of the batch for the state sink.
  [[nodiscard]] StateChanges take_state_changes();
  // Hands the rows collected since the last call to the store, tagged with `journal_sequence`.
  void submit_rows(std::uint64_t journal_sequence);

  const engine::EngineConfig config_;
  BatchWorkerOptions options_;
  CommandQueue& queue_;
  OrderStore& orders_;
  UserDirectory& users_;
  MarketView& market_;
  Metrics& metrics_;

  engine::Engine engine_;
  std::unique_ptr<Events> events_;
  std::unique_ptr<journal::JournalWriter> journal_;
  CompletionSink completions_;
  store::StoreWriter* store_ = nullptr;
  std::unique_ptr<StoreFeed> feed_;  // set with store_
  StateSink* state_sink_ = nullptr;
  // Worker thread only: set when a stop found the store's queue full, so no later batch is sent.
  bool store_abandoned_ = false;

  // Worker thread only.
  std::unordered_set<std::string> touched_symbols_;
  std::unordered_set<std::uint64_t> touched_users_;
  std::vector<std::byte> payload_;
  // Collected only with a state sink: changed order ids, new users and the batch's snapshots.
  std::vector<std::uint64_t> touched_orders_;
  StateChanges state_changes_;
  std::uint64_t batch_number_ = 0;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> running_{false};
  std::atomic<std::int64_t> heartbeat_ns_{0};
  std::atomic<std::uint64_t> last_journal_sequence_{0};
  mutable std::mutex stats_mutex_;
  engine::EngineStats engine_stats_;
  std::thread thread_;
};

}  // namespace hft::gateway
