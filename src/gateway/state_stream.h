// The `hft:events` Redis stream that carries state from the engine to the gateways.
//
// StatePublisher (engine role): the batch worker's StateSink. One thread owns the Redis
// connection. It merges the StateChanges of the durable batches queued within 10 ms into one
// stream entry with one field, `state`, holding encode_state_changes() bytes. XADD trims the
// stream with `MAXLEN ~ kEventStreamMaxEntries`, so Redis keeps roughly the newest entries only.
// While Redis is away, up to kMaxQueuedBatches wait, and later ones are dropped and counted.
//
// StateSubscriber (gateway role): one thread reads the stream with XREAD from its start and
// applies each entry to the gateway's OrderStore, UserDirectory and MarketView. A gateway that
// starts after the stream was trimmed reads only the entries Redis kept.
//
// Thread-safety: StatePublisher::publish() and the stats accessors may be called from any
// thread. Both classes own their connection and thread; stop() joins it. The stores are borrowed
// and must outlive the subscriber. I/O failures are logged on the "redis" logger (a reconnect
// after each) and counted.
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

#include "gateway/batch_worker.h"
#include "gateway/state_feed.h"
#include "redis/connection.h"
#include "redis/redis_url.h"

namespace hft::gateway {

inline constexpr std::string_view kEventStreamKey = "hft:events";
inline constexpr std::string_view kEventField = "state";
// Entries (each up to 10 ms of engine batches) that Redis keeps, approximately.
inline constexpr std::size_t kEventStreamMaxEntries = 2'000;

class StatePublisher final : public StateSink {
 public:
  static constexpr std::size_t kMaxQueuedBatches = 100'000;

  explicit StatePublisher(redis::RedisUrl url);
  ~StatePublisher() override;
  StatePublisher(const StatePublisher&) = delete;
  StatePublisher& operator=(const StatePublisher&) = delete;

  void publish(StateChanges&& changes) override;
  // Sends what is queued (waiting at most `timeout` for Redis), then joins the thread.
  void stop(std::chrono::milliseconds timeout);

  // Engine batches whose state reached Redis, and those dropped.
  [[nodiscard]] std::uint64_t published() const { return published_.load(); }
  // Batches queued so far, and those whose XADD finished (stored or rejected), in queue order:
  // a batch queued as the n-th is in Redis, or given up, once processed() >= n.
  [[nodiscard]] std::uint64_t enqueued() const { return enqueued_.load(); }
  [[nodiscard]] std::uint64_t processed() const { return processed_.load(); }
  [[nodiscard]] std::uint64_t dropped() const { return dropped_.load(); }
  [[nodiscard]] std::size_t queued() const;

 private:
  void run();

  const redis::RedisUrl url_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  // One engine batch, or several merged before an XADD that failed and is sent again.
  struct QueuedState {
    StateChanges changes;
    std::uint64_t batches = 1;
  };

  std::deque<QueuedState> queue_;                        // guarded by mutex_
  bool stopping_ = false;                                // guarded by mutex_
  std::chrono::steady_clock::time_point stop_deadline_;  // guarded by mutex_
  std::atomic<std::uint64_t> enqueued_{0};
  std::atomic<std::uint64_t> processed_{0};
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::thread thread_;
};

class StateSubscriber {
 public:
  StateSubscriber(redis::RedisUrl url, OrderStore& orders, UserDirectory& users,
                  MarketView& market);
  ~StateSubscriber();
  StateSubscriber(const StateSubscriber&) = delete;
  StateSubscriber& operator=(const StateSubscriber&) = delete;

  // Reads and applies every entry the stream contains now, in the calling thread. Returns an error
  // text when Redis cannot be read.
  [[nodiscard]] std::string catch_up();
  // Starts the thread that follows the stream from where catch_up() ended.
  void start();
  void stop();

  // The highest order id seen in the stream.
  [[nodiscard]] std::uint64_t max_order_id() const { return max_order_id_.load(); }
  [[nodiscard]] std::uint64_t entries_applied() const { return entries_applied_.load(); }
  [[nodiscard]] std::uint64_t entries_invalid() const { return entries_invalid_.load(); }
  [[nodiscard]] bool connected() const { return connected_.load(); }

 private:
  // One XREAD; `block` 0 returns at once. Returns an error text on an I/O failure.
  [[nodiscard]] std::string read_once(std::chrono::milliseconds block, std::size_t& entries);
  void run();

  const redis::RedisUrl url_;
  OrderStore& orders_;
  UserDirectory& users_;
  MarketView& market_;
  std::unique_ptr<redis::Connection> connection_;  // the reading thread only
  std::string last_id_ = "0-0";                    // the reading thread only
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> max_order_id_{0};
  std::atomic<std::uint64_t> entries_applied_{0};
  std::atomic<std::uint64_t> entries_invalid_{0};
  std::thread thread_;
};

}  // namespace hft::gateway
