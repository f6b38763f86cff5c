#include "redis/order_producer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

namespace hft::redis {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto found = spdlog::get("redis");
  return found ? found : spdlog::default_logger();
}

std::vector<std::string> make_stream_keys(std::uint32_t shard_count) {
  std::vector<std::string> keys;
  for (std::uint32_t shard = 0; shard < std::max<std::uint32_t>(shard_count, 1); ++shard) {
    keys.push_back(stream_key(shard));
  }
  return keys;
}

}  // namespace

OrderProducer::OrderProducer(ProducerOptions options)
    : options_(std::move(options)),
      stream_keys_(make_stream_keys(options_.shard_count)),
      backoff_(options_.reconnect_backoff_min) {
  thread_ = std::thread([this] { run(); });
}

OrderProducer::~OrderProducer() { stop(); }

EnqueueStatus OrderProducer::publish(OrderEntry entry, PublishCallback on_outcome) {
  if (unavailable_.load(std::memory_order_relaxed)) return EnqueueStatus::kUnavailable;

  Pending pending;
  pending.shard = shard_for_symbol(entry.symbol, static_cast<std::uint32_t>(stream_keys_.size()));
  pending.order_id_text = std::to_string(entry.order_id.value);
  pending.type_text = std::to_string(entry.type);
  pending.deadline = Clock::now() + options_.entry_timeout;
  pending.entry = std::move(entry);
  pending.on_outcome = std::move(on_outcome);

  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return EnqueueStatus::kStopped;
    if (in_flight_.load(std::memory_order_relaxed) >= options_.max_queued_entries) {
      return EnqueueStatus::kQueueFull;
    }
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    was_empty = queue_.empty();
    queue_.push_back(std::move(pending));
  }
  // The producer thread waits for orders only on an empty queue, so only the first needs waking.
  if (was_empty) wake_.notify_one();
  return EnqueueStatus::kQueued;
}

void OrderProducer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

ProducerStats OrderProducer::stats() const {
  ProducerStats stats;
  stats.accepted = accepted_.load(std::memory_order_relaxed);
  stats.rejected = rejected_.load(std::memory_order_relaxed);
  stats.timed_out = timed_out_.load(std::memory_order_relaxed);
  stats.round_trips = round_trips_.load(std::memory_order_relaxed);
  stats.reconnects = reconnects_.load(std::memory_order_relaxed);
  stats.queued = in_flight_.load(std::memory_order_relaxed);
  stats.connected = connected_.load(std::memory_order_relaxed);
  stats.unavailable = unavailable_.load(std::memory_order_relaxed);
  stats.failures_in_row = failures_in_row_.load(std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  stats.last_failure = last_failure_;
  stats.last_error = last_error_;
  return stats;
}

void OrderProducer::run() {
  std::deque<Pending> batch;
  while (true) {
    bool stopping = false;
    bool woken = false;
    {
      std::unique_lock lock(mutex_);
      // New orders matter only when the batch is empty and they can be sent.
      bool take_orders = batch.empty() && !unavailable_.load(std::memory_order_relaxed);
      woken = wake_.wait_until(lock, next_wake(batch),
                               [&] { return stopping_ || (take_orders && !queue_.empty()); });
      if (batch.empty() && queue_.empty() && stopping_) break;
      while (!queue_.empty() && batch.size() < options_.max_pipeline_entries) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      stopping = stopping_;
    }

    fail_expired(batch);
    if (batch.empty()) {
      if (!woken) check_idle();
    } else if (ensure_connected(stopping)) {
      send_batch(batch);
    } else if (stopping) {
      std::string error;
      {
        std::lock_guard lock(mutex_);
        error = last_error_;
      }
      fail_all(batch, fmt::format("the gateway is stopping and Redis is unreachable: {}", error));
    }
    flush_outcomes();
  }
  connection_.reset();
  connected_.store(false, std::memory_order_relaxed);
}

OrderProducer::Clock::time_point OrderProducer::next_wake(const std::deque<Pending>& batch) const {
  bool connected = connection_ && !connection_->broken();
  if (!batch.empty()) {
    if (connected) return Clock::now();
    return std::min(next_connect_, batch.front().deadline);
  }
  if (connected || !ever_connected_) return last_io_ + options_.idle_check_interval;
  return next_connect_;
}

void OrderProducer::check_idle() {
  if (!connection_ || connection_->broken()) {
    (void)ensure_connected(false);
    return;
  }
  if (Clock::now() - last_io_ < options_.idle_check_interval) return;

  Reply reply = connection_->command({"PING"});
  last_io_ = Clock::now();
  if (!reply) mark_unavailable(connection_->error());
}

void OrderProducer::mark_unavailable(std::string error) {
  bool was_available = !unavailable_.exchange(true, std::memory_order_relaxed);
  if (was_available) logger()->warn("Redis is unavailable, rejecting new orders: {}", error);
  {
    std::lock_guard lock(mutex_);
    last_error_ = std::move(error);
  }
  connection_.reset();
  connected_.store(false, std::memory_order_relaxed);
}

bool OrderProducer::ensure_connected(bool force) {
  if (connection_ && !connection_->broken()) return true;
  if (connection_) mark_unavailable(connection_->error());
  if (!force && Clock::now() < next_connect_) return false;

  ConnectResult result = Connection::connect(options_.url, options_.io_timeout);
  last_io_ = Clock::now();
  if (!result.connection) {
    // Logged at 1, 2, 4, 8, ... failed attempts, because attempts repeat every second or so.
    std::uint64_t failures = ++connect_failures_;
    if ((failures & (failures - 1)) == 0) {
      std::uint64_t waiting = in_flight_.load(std::memory_order_relaxed);
      logger()->warn("{}; {} failed {} in a row, retrying in {} ms, {} {} waiting", result.error,
                     failures, failures == 1 ? "attempt" : "attempts", backoff_.count(), waiting,
                     waiting == 1 ? "order" : "orders");
    }
    mark_unavailable(result.error);
    next_connect_ = last_io_ + backoff_;
    backoff_ = std::min(backoff_ * 2, options_.reconnect_backoff_max);
    return false;
  }

  if (ever_connected_) {
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    if (connect_failures_ == 0) {
      logger()->info("reconnected to Redis at {}", options_.url.redacted());
    } else {
      logger()->info("reconnected to Redis at {} after {} failed {}", options_.url.redacted(),
                     connect_failures_, connect_failures_ == 1 ? "attempt" : "attempts");
    }
  }
  connect_failures_ = 0;
  ever_connected_ = true;
  connection_ = std::move(result.connection);
  backoff_ = options_.reconnect_backoff_min;
  next_connect_ = {};
  last_io_ = Clock::now();
  connected_.store(true, std::memory_order_relaxed);
  unavailable_.store(false, std::memory_order_relaxed);
  return true;
}

void OrderProducer::send_batch(std::deque<Pending>& batch) {
  // Every XADD is buffered first, so the first read_reply() sends them all in one write.
  std::size_t appended = 0;
  for (const Pending& pending : batch) {
    std::array<std::string_view, 9> args = {"XADD",
                                            stream_keys_[pending.shard],
                                            "*",
                                            kFieldOrderId,
                                            pending.order_id_text,
                                            kFieldType,
                                            pending.type_text,
                                            kFieldPayload,
                                            pending.entry.payload};
    if (!connection_->append(args)) break;
    ++appended;
  }
  round_trips_.fetch_add(1, std::memory_order_relaxed);
  last_io_ = Clock::now();

  std::size_t completed = 0;
  for (; completed < appended; ++completed) {
    Reply reply = connection_->read_reply();
    if (!reply) break;

    Pending& pending = batch[completed];
    PublishOutcome outcome;
    outcome.order_id = pending.entry.order_id;
    outcome.shard = pending.shard;
    if (reply->type == REDIS_REPLY_STRING) {
      outcome.status = PublishStatus::kAccepted;
      outcome.stream_id = std::string(reply_text(*reply));
    } else {
      outcome.status = PublishStatus::kRejected;
      outcome.failure =
          reply->type == REDIS_REPLY_ERROR ? classify_reply(*reply) : FailureKind::kError;
      outcome.error = reply->type == REDIS_REPLY_ERROR
                          ? fmt::format("XADD on Redis at {} failed: {}", options_.url.redacted(),
                                        reply_text(*reply))
                          : fmt::format("XADD on Redis at {} returned reply type {}",
                                        options_.url.redacted(), reply->type);
    }
    complete(pending, std::move(outcome));
  }
  batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(completed));
  if (connection_->broken()) mark_unavailable(connection_->error());
}

void OrderProducer::fail_expired(std::deque<Pending>& batch) {
  auto now = std::chrono::steady_clock::now();
  auto is_expired = [&](const Pending& pending) { return pending.deadline <= now; };
  if (std::none_of(batch.begin(), batch.end(), is_expired)) return;

  std::deque<Pending> unexpired;
  for (Pending& pending : batch) {
    if (!is_expired(pending)) {
      unexpired.push_back(std::move(pending));
      continue;
    }
    PublishOutcome outcome;
    outcome.order_id = pending.entry.order_id;
    outcome.shard = pending.shard;
    outcome.status = PublishStatus::kTimedOut;
    std::string reason;
    {
      std::lock_guard lock(mutex_);
      reason = last_error_.empty() ? "no reply" : last_error_;
    }
    outcome.error = fmt::format("Redis at {} did not confirm the order within {} ms: {}",
                                options_.url.redacted(), options_.entry_timeout.count(), reason);
    complete(pending, std::move(outcome));
  }
  batch.swap(unexpired);
}

void OrderProducer::fail_all(std::deque<Pending>& batch, const std::string& error) {
  {
    std::lock_guard lock(mutex_);
    while (!queue_.empty()) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  for (Pending& pending : batch) {
    PublishOutcome outcome;
    outcome.order_id = pending.entry.order_id;
    outcome.shard = pending.shard;
    outcome.status = PublishStatus::kTimedOut;
    outcome.failure = FailureKind::kUnreachable;
    outcome.error = error;
    complete(pending, std::move(outcome));
  }
  batch.clear();
}

void OrderProducer::complete(Pending& pending, PublishOutcome outcome) {
  switch (outcome.status) {
    case PublishStatus::kAccepted:
      accepted_.fetch_add(1, std::memory_order_relaxed);
      failures_in_row_.store(0, std::memory_order_relaxed);
      break;
    case PublishStatus::kRejected:
      rejected_.fetch_add(1, std::memory_order_relaxed);
      record_failure(outcome.error);
      break;
    case PublishStatus::kTimedOut:
      timed_out_.fetch_add(1, std::memory_order_relaxed);
      record_failure(outcome.error);
      break;
  }
  if (pending.on_outcome) pending.on_outcome(outcome);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  ++outcomes_since_flush_;
}

void OrderProducer::record_failure(const std::string& error) {
  failures_in_row_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  last_failure_ = Clock::now();
  last_error_ = error;
}

void OrderProducer::flush_outcomes() {
  if (outcomes_since_flush_ == 0) return;
  outcomes_since_flush_ = 0;
  if (options_.after_outcomes) options_.after_outcomes();
}

}  // namespace hft::redis
