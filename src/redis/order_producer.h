// OrderProducer: the gateway's side of the Redis order queue. It appends orders with XADD to the
// stream of their symbol's shard and reports, per order, when Redis has accepted it, so the
// gateway acknowledges the order only then.
//
// Threads: publish(), stop() and stats() may be called from any thread. One dedicated thread owns
// the Redis connection: it takes up to `max_pipeline_entries` queued orders, sends all their XADDs
// in one write and reads the replies in order, so one round trip carries many orders. Outcome
// callbacks run on that thread, exactly once per order that publish() queued. They must return
// quickly, must not throw and must not call stop().
//
// Memory: at most `max_queued_entries` orders wait in the queue; publish() returns kQueueFull past
// that and the gateway answers 503 with Retry-After. Nothing queued is dropped.
//
// Failures: a lost connection is retried with exponential backoff (each retry logged on the
// spdlog logger "redis"); the orders already queued wait meanwhile. From a failed connect or I/O
// failure until the next successful connect, Redis counts as unavailable and publish() returns
// kUnavailable at once, so clients get a reply well before their own timeout. While idle, the
// thread sends PING every `idle_check_interval`, and while Redis is unavailable it tries to
// reconnect, so both an outage and the return of Redis are noticed without traffic. An order
// still unconfirmed after `entry_timeout` fails with kTimedOut; on stop() while Redis is
// unreachable, every waiting order fails at once. A Redis error reply (for example OOM when
// Redis is full) fails that order at once with kRejected and the reply text.
// NOTE: an order whose XADD was sent just before the connection broke may already be in the
// stream. It is sent again after reconnecting, or fails with kTimedOut, so the stream can hold it
// twice, or hold an order the gateway reported as failed; the consumer skips repeated ids.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/types.h"
#include "redis/connection.h"
#include "redis/order_stream.h"
#include "redis/redis_url.h"

namespace hft::redis {

struct ProducerOptions {
  RedisUrl url;
  std::uint32_t shard_count = kDefaultShardCount;
  std::size_t max_queued_entries = 1 << 16;
  // XADDs per round trip.
  std::size_t max_pipeline_entries = 512;
  // Connect timeout, and the socket timeout for each round trip.
  std::chrono::milliseconds io_timeout{5000};
  // How long an order may wait for Redis before it fails with kTimedOut: below the 5 s default
  // timeout of `hft load`, so a client learns the outcome instead of timing out.
  std::chrono::milliseconds entry_timeout{3000};
  std::chrono::milliseconds reconnect_backoff_min{50};
  std::chrono::milliseconds reconnect_backoff_max{1000};
  // Idle time after which the thread checks its connection with PING.
  std::chrono::milliseconds idle_check_interval{500};
  // Called on the producer thread after each group of outcome callbacks (the replies of one round
  // trip, or the orders that timed out), so the caller can pass their results on in one go.
  // Same rules as the callbacks. May be empty.
  std::function<void()> after_outcomes;
};

// One order to append. `payload` is opaque to the queue.
struct OrderEntry {
  engine::OrderId order_id;
  std::uint16_t type = 0;
  std::string symbol;  // chooses the shard
  std::string payload;
};

enum class PublishStatus : std::uint8_t {
  kAccepted,  // Redis stored the entry; `stream_id` is its id
  kRejected,  // Redis replied with an error; `error` has its text
  kTimedOut,  // not confirmed within entry_timeout, or Redis unreachable during stop()
};

struct PublishOutcome {
  engine::OrderId order_id;
  PublishStatus status = PublishStatus::kAccepted;
  std::uint32_t shard = 0;
  std::string stream_id;
  std::string error;
  // For kRejected: kFull for an OOM error reply, else kError.
  FailureKind failure = FailureKind::kNone;
};

using PublishCallback = std::function<void(const PublishOutcome&)>;

enum class EnqueueStatus : std::uint8_t {
  kQueued,       // the callback will report the outcome
  kQueueFull,    // max_queued_entries reached; the callback is not called
  kUnavailable,  // Redis is unreachable (see ProducerStats::last_error); the callback is not called
  kStopped,      // stop() was called; the callback is not called
};

struct ProducerStats {
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t timed_out = 0;
  std::uint64_t round_trips = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t queued = 0;  // waiting for the producer thread or for a reply
  bool connected = false;
  // True from a failed connect or I/O failure until the next successful connect.
  bool unavailable = false;
  // Publications that failed (kRejected or kTimedOut) since the last accepted one.
  std::uint64_t failures_in_row = 0;
  std::chrono::steady_clock::time_point last_failure{};
  // The last connection error or error reply; empty before the first failure.
  std::string last_error;
};

class OrderProducer {
 public:
  // Starts the producer thread, which connects on its own; a Redis that is down delays orders
  // but does not fail construction. Run check_eviction_policy at start-up before this.
  explicit OrderProducer(ProducerOptions options);
  // Calls stop().
  ~OrderProducer();
  OrderProducer(const OrderProducer&) = delete;
  OrderProducer& operator=(const OrderProducer&) = delete;

  // Queues one order for XADD. `on_outcome` is called once on the producer thread, unless the
  // return value is not kQueued.
  [[nodiscard]] EnqueueStatus publish(OrderEntry entry, PublishCallback on_outcome);

  // Stops taking orders, keeps sending the queued ones until each is accepted, rejected or past
  // entry_timeout, then joins the producer thread. When Redis is unreachable, fails the waiting
  // orders with kTimedOut after one connect attempt instead. Safe to call more than once.
  void stop();

  [[nodiscard]] ProducerStats stats() const;
  // True while publish() returns kUnavailable; one relaxed atomic load.
  [[nodiscard]] bool unavailable() const { return unavailable_.load(std::memory_order_relaxed); }
  [[nodiscard]] const ProducerOptions& options() const { return options_; }

 private:
  struct Pending {
    OrderEntry entry;
    std::uint32_t shard = 0;
    std::string order_id_text;
    std::string type_text;
    std::chrono::steady_clock::time_point deadline;
    PublishCallback on_outcome;
  };

  using Clock = std::chrono::steady_clock;

  void run();
  // When the thread wakes up next without a publish() or stop(): at once while orders can be
  // sent, else at the next connect attempt, the first order deadline or the idle check.
  [[nodiscard]] Clock::time_point next_wake(const std::deque<Pending>& batch) const;
  // Sends the XADDs of `batch` in one round trip and completes the orders that got a reply.
  // Orders without a reply (the connection broke) stay in `batch`.
  void send_batch(std::deque<Pending>& batch);
  // Connects when there is no working connection and the backoff allows an attempt (always when
  // `force`). True when a connection is ready.
  [[nodiscard]] bool ensure_connected(bool force);
  // Sends PING on an idle connection, or tries to reconnect one that failed.
  void check_idle();
  // Records a connection failure: the connection is dropped and publish() rejects new orders.
  void mark_unavailable(std::string error);
  void fail_expired(std::deque<Pending>& batch);
  // Completes every order in `batch` and in the queue with kTimedOut and `error`.
  void fail_all(std::deque<Pending>& batch, const std::string& error);
  void complete(Pending& pending, PublishOutcome outcome);
  void record_failure(const std::string& error);
  // Calls options_.after_outcomes when an outcome callback ran since the last call.
  void flush_outcomes();

  const ProducerOptions options_;
  const std::vector<std::string> stream_keys_;  // one per shard

  std::unique_ptr<Connection> connection_;  // producer thread only
  std::chrono::milliseconds backoff_;       // producer thread only
  Clock::time_point next_connect_{};        // producer thread only
  Clock::time_point last_io_{};             // producer thread only
  bool ever_connected_ = false;             // producer thread only
  std::uint64_t connect_failures_ = 0;      // producer thread only; since the last connect
  std::size_t outcomes_since_flush_ = 0;    // producer thread only

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;         // guarded by mutex_
  bool stopping_ = false;             // guarded by mutex_
  std::string last_error_;            // guarded by mutex_
  Clock::time_point last_failure_{};  // guarded by mutex_
  std::atomic<bool> unavailable_{false};
  std::atomic<std::uint64_t> failures_in_row_{0};

  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> timed_out_{0};
  std::atomic<std::uint64_t> round_trips_{0};
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<bool> connected_{false};
  std::thread thread_;
};

}  // namespace hft::redis
