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
  Pending pending;
  pending.shard = shard_for_symbol(entry.symbol, static_cast<std::uint32_t>(stream_keys_.size()));
  pending.order_id_text = std::to_string(entry.order_id.value);
  pending.type_text = std::to_string(entry.type);
  pending.deadline = std::chrono::steady_clock::now() + options_.entry_timeout;
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
  // The producer thread waits only on an empty queue, so only the first order needs the wake-up.
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
  return stats;
}

void OrderProducer::run() {
  std::deque<Pending> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (batch.empty()) wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (batch.empty() && queue_.empty() && stopping_) break;
      while (!queue_.empty() && batch.size() < options_.max_pipeline_entries) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }

    fail_expired(batch);
    if (!batch.empty() && ensure_connected()) send_batch(batch);
    flush_outcomes();
  }
  connection_.reset();
  connected_.store(false, std::memory_order_relaxed);
}

bool OrderProducer::ensure_connected() {
  if (connection_ && !connection_->broken()) return true;

  if (connection_) {
    last_error_ = connection_->error();
    logger()->warn("lost the connection to Redis: {}", last_error_);
    connection_.reset();
    connected_.store(false, std::memory_order_relaxed);
  }

  ConnectResult result = Connection::connect(options_.url, options_.io_timeout);
  if (!result.connection) {
    last_error_ = result.error;
    logger()->warn("{}; retrying in {} ms, {} orders waiting", result.error, backoff_.count(),
                   in_flight_.load(std::memory_order_relaxed));
    back_off();
    return false;
  }

  if (ever_connected_) {
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    logger()->info("reconnected to Redis at {}", options_.url.redacted());
  }
  ever_connected_ = true;
  connection_ = std::move(result.connection);
  backoff_ = options_.reconnect_backoff_min;
  connected_.store(true, std::memory_order_relaxed);
  return true;
}

void OrderProducer::back_off() {
  std::this_thread::sleep_for(backoff_);
  backoff_ = std::min(backoff_ * 2, options_.reconnect_backoff_max);
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
      outcome.error = reply->type == REDIS_REPLY_ERROR
                          ? fmt::format("XADD on Redis at {} failed: {}", options_.url.redacted(),
                                        reply_text(*reply))
                          : fmt::format("XADD on Redis at {} returned reply type {}",
                                        options_.url.redacted(), reply->type);
    }
    complete(pending, std::move(outcome));
  }
  batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(completed));
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
    outcome.error = fmt::format("Redis at {} did not confirm the order within {} ms: {}",
                                options_.url.redacted(), options_.entry_timeout.count(),
                                last_error_.empty() ? "no reply" : last_error_);
    complete(pending, std::move(outcome));
  }
  batch.swap(unexpired);
}

void OrderProducer::complete(Pending& pending, PublishOutcome outcome) {
  switch (outcome.status) {
    case PublishStatus::kAccepted:
      accepted_.fetch_add(1, std::memory_order_relaxed);
      break;
    case PublishStatus::kRejected:
      rejected_.fetch_add(1, std::memory_order_relaxed);
      break;
    case PublishStatus::kTimedOut:
      timed_out_.fetch_add(1, std::memory_order_relaxed);
      break;
  }
  if (pending.on_outcome) pending.on_outcome(outcome);
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  ++outcomes_since_flush_;
}

void OrderProducer::flush_outcomes() {
  if (outcomes_since_flush_ == 0) return;
  outcomes_since_flush_ = 0;
  if (options_.after_outcomes) options_.after_outcomes();
}

}  // namespace hft::redis
