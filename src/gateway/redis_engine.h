// RedisEngine: the Redis side of `hft serve --role engine --queue redis://...`. One reader thread
// takes batches from the order streams with OrderConsumer, decodes each entry into a Command,
// skips what the engine already holds, and pushes the rest to the batch worker's queue. A batch
// is acknowledged (XACK) only after the journal reports every command of it durable, so a crash
// loses nothing that was acknowledged: the next start takes the pending entries over. The batch
// also waits until its state is in the `hft:events` stream, so the gateways see every
// acknowledged entry's state.
//
// Repeated entries are harmless. A new-order entry is skipped when its first order id is already
// in the OrderStore (replayed from the journal or queued earlier in this run), and the orders'
// current state is published again. A registration whose user id is known is skipped. A cancel
// applied twice is rejected by the engine the second time (unknown order) and changes nothing.
//
// Thread-safety: start(), stop_reading() and acknowledge_durable_batches() are called by the
// controlling thread; the reader thread owns the consumer between start() and stop_reading().
// healthy(), append_health() and append_metrics() may be called from any thread.
// Ownership: owns the consumer and the reader thread; borrows the queue, the stores and the
// worker, which must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/batch_worker.h"
#include "gateway/redis_gateway.h"
#include "gateway/scale_out.h"
#include "gateway/state_stream.h"
#include "redis/order_consumer.h"

namespace hft::gateway {

class RedisEngine final : public StatusSource {
 public:
  RedisEngine(redis::RedisUrl url, CommandQueue& queue, OrderStore& orders, UserDirectory& users,
              MarketView& market, BatchWorker& worker, StatePublisher& publisher);
  ~RedisEngine() override;
  RedisEngine(const RedisEngine&) = delete;
  RedisEngine& operator=(const RedisEngine&) = delete;

  // Opens the consumer group (taking over pending entries) and starts the reader thread.
  // Returns an error text when Redis is unreachable.
  [[nodiscard]] std::string start();
  // Stops the reader thread; batches already pushed stay in the worker's queue.
  void stop_reading();
  // XACKs every batch the journal has made durable, in the order read. Call after the worker
  // stopped, so the last batches are acknowledged before exit.
  void acknowledge_durable_batches();

  // Completions of the journal's commits reach the reader's batches through this sink.
  [[nodiscard]] static CompletionSink completion_sink();

  [[nodiscard]] bool healthy() override;
  void append_health(JsonWriter& writer) override;
  void append_metrics(std::string& out) override;

 private:
  // The entries of one read, acknowledged together once their last command is durable.
  struct ReadBatch {
    std::vector<redis::StreamEntry> entries;
    std::atomic<bool> durable{false};
    // StatePublisher::enqueued() once the batch was durable; set before `durable`.
    std::atomic<std::uint64_t> state_sequence{0};
  };
  class DurableTarget;

  void run();
  // Decodes the entries into commands, drops repeats and pushes the rest; false when stopping.
  [[nodiscard]] bool push_batch(const std::shared_ptr<ReadBatch>& batch);
  [[nodiscard]] bool push_command(Command&& command, std::size_t weight);
  [[nodiscard]] bool accept_command(Command& command);
  // Publishes the current state of orders the journal held before this start: a crash between
  // the journal commit and the state stream's XADD would otherwise leave gateways without it.
  void republish(const std::vector<Command>& skipped);

  const redis::RedisUrl url_;
  CommandQueue& queue_;
  OrderStore& orders_;
  UserDirectory& users_;
  MarketView& market_;
  BatchWorker& worker_;
  StatePublisher& publisher_;
  std::unique_ptr<redis::OrderConsumer> consumer_;
  std::deque<std::shared_ptr<ReadBatch>> in_flight_;  // the reader thread, then the controller
  StreamStatsCache stream_stats_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> entries_read_{0};
  std::atomic<std::uint64_t> entries_skipped_{0};
  std::atomic<std::uint64_t> entries_invalid_{0};
  std::atomic<std::uint64_t> entries_acknowledged_{0};
  std::atomic<std::uint64_t> read_failures_{0};
  std::atomic<std::uint64_t> taken_over_{0};
  std::thread thread_;
};

}  // namespace hft::gateway
