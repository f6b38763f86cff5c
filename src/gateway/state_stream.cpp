#include "gateway/state_stream.h"

#include <spdlog/spdlog.h>

#include <string_view>
#include <unordered_map>
#include <vector>

namespace hft::gateway {

namespace {

constexpr auto kIoTimeout = std::chrono::milliseconds(5000);
constexpr auto kRetryDelay = std::chrono::milliseconds(500);
constexpr auto kSubscriberBlock = std::chrono::milliseconds(500);
// Engine batches merged into one stream entry at most, and how long the publisher collects them
// before each XADD. The wait bounds the stream to about 100 entries a second.
constexpr std::uint64_t kMaxBatchesPerEntry = 1024;
constexpr auto kLinger = std::chrono::milliseconds(10);
constexpr std::size_t kEntriesPerRead = 256;

std::shared_ptr<spdlog::logger> logger() {
  auto found = spdlog::get("redis");
  return found ? found : spdlog::default_logger();
}

// Merges the changes of consecutive batches into one: each user and order once, with its newest
// state, and the newest snapshot of each book and of each user's positions.
class StateMerger {
 public:
  void add(StateChanges&& changes, std::uint64_t batches) {
    batches_ += batches;
    for (UserChange& user : changes.users) merged_.users.push_back(std::move(user));
    for (const OrderRecord& record : changes.orders) {
      auto [position, inserted] = order_index_.try_emplace(record.id.value, merged_.orders.size());
      if (inserted) {
        merged_.orders.push_back(record);
      } else {
        merged_.orders[position->second] = record;
      }
    }
    for (auto& book : changes.books) {
      auto [position, inserted] = book_index_.try_emplace(book.first, merged_.books.size());
      if (inserted) {
        merged_.books.push_back(std::move(book));
      } else {
        merged_.books[position->second].second = std::move(book.second);
      }
    }
    for (auto& positions : changes.positions) {
      auto [position, inserted] =
          position_index_.try_emplace(positions.first.value, merged_.positions.size());
      if (inserted) {
        merged_.positions.push_back(std::move(positions));
      } else {
        merged_.positions[position->second].second = std::move(positions.second);
      }
    }
  }

  [[nodiscard]] std::uint64_t batches() const { return batches_; }
  [[nodiscard]] StateChanges take() { return std::move(merged_); }

 private:
  StateChanges merged_;
  std::uint64_t batches_ = 0;
  std::unordered_map<std::uint64_t, std::size_t> order_index_;
  std::unordered_map<std::string, std::size_t> book_index_;
  std::unordered_map<std::uint64_t, std::size_t> position_index_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// StatePublisher

StatePublisher::StatePublisher(redis::RedisUrl url) : url_(std::move(url)) {
  thread_ = std::thread([this] { run(); });
}

StatePublisher::~StatePublisher() { stop(std::chrono::milliseconds(0)); }

void StatePublisher::publish(StateChanges&& changes) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= kMaxQueuedBatches) {
      std::uint64_t dropped = dropped_.fetch_add(1) + 1;
      // A power of two: the log stays short when Redis is away for long.
      if ((dropped & (dropped - 1)) == 0) {
        logger()->error("{}: state queue full ({} batches); {} {} not sent to gateways",
                        kEventStreamKey, kMaxQueuedBatches, dropped,
                        dropped == 1 ? "batch" : "batches");
      }
      return;
    }
    queue_.push_back(QueuedState{std::move(changes), 1});
    enqueued_.fetch_add(1);
  }
  wake_.notify_one();
}

std::size_t StatePublisher::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void StatePublisher::stop(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) stop_deadline_ = std::chrono::steady_clock::now() + timeout;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void StatePublisher::run() {
  std::unique_ptr<redis::Connection> connection;
  const std::string max_length = std::to_string(kEventStreamMaxEntries);
  std::string payload;

  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() ||
          (stopping_ && std::chrono::steady_clock::now() >= stop_deadline_ && !connection)) {
        if (stopping_) return;
        continue;
      }
    }

    if (!connection || connection->broken()) {
      redis::ConnectResult connected = redis::Connection::connect(url_, kIoTimeout);
      if (!connected.connection) {
        logger()->warn("{}: connect failed, retrying: {}", kEventStreamKey, connected.error);
        std::unique_lock lock(mutex_);
        if (stopping_ && std::chrono::steady_clock::now() >= stop_deadline_) return;
        wake_.wait_for(lock, kRetryDelay);
        continue;
      }
      connection = std::move(connected.connection);
    }

    // Every batch queued within kLinger goes into one entry, which keeps the newest book per
    // symbol and the newest positions per user, so a busy engine sends fewer and smaller entries.
    StateMerger merger;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kLinger, [&] { return stopping_; });
      while (!queue_.empty() && merger.batches() < kMaxBatchesPerEntry) {
        merger.add(std::move(queue_.front().changes), queue_.front().batches);
        queue_.pop_front();
      }
    }
    std::uint64_t batches = merger.batches();
    StateChanges changes = merger.take();
    encode_state_changes(changes, payload);
    redis::Reply reply = connection->command(
        {"XADD", kEventStreamKey, "MAXLEN", "~", max_length, "*", kEventField, payload});
    if (!reply) {
      // Resend after reconnecting. Redis may have stored the entry already; gateways apply it
      // twice without harm, because entries carry full states.
      logger()->warn("{}: connection lost, retrying: {}", kEventStreamKey, connection->error());
      {
        std::lock_guard lock(mutex_);
        queue_.push_front(QueuedState{std::move(changes), batches});
      }
      connection.reset();
      continue;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      logger()->error("{}: XADD failed, the gateways miss the state of {} engine batches: {}",
                      kEventStreamKey, batches, redis::reply_text(*reply));
      dropped_.fetch_add(batches);
      processed_.fetch_add(batches);
      continue;
    }
    published_.fetch_add(batches);
    processed_.fetch_add(batches);
  }
}

// ---------------------------------------------------------------------------------------------
// StateSubscriber

StateSubscriber::StateSubscriber(redis::RedisUrl url, OrderStore& orders, UserDirectory& users,
                                 MarketView& market)
    : url_(std::move(url)), orders_(orders), users_(users), market_(market) {}

StateSubscriber::~StateSubscriber() { stop(); }

std::string StateSubscriber::catch_up() {
  while (true) {
    std::size_t entries = 0;
    std::string error = read_once(std::chrono::milliseconds(0), entries);
    if (!error.empty()) return error;
    if (entries == 0) return {};
  }
}

void StateSubscriber::start() {
  thread_ = std::thread([this] { run(); });
}

void StateSubscriber::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string StateSubscriber::read_once(std::chrono::milliseconds block, std::size_t& entries) {
  entries = 0;
  if (!connection_ || connection_->broken()) {
    connected_ = false;
    redis::ConnectResult connected = redis::Connection::connect(url_, kIoTimeout + block);
    if (!connected.connection) return connected.error;
    connection_ = std::move(connected.connection);
    connected_ = true;
  }

  const std::string count = std::to_string(kEntriesPerRead);
  const std::string block_ms = std::to_string(block.count());
  redis::Reply reply;
  if (block.count() > 0) {
    reply = connection_->command(
        {"XREAD", "COUNT", count, "BLOCK", block_ms, "STREAMS", kEventStreamKey, last_id_});
  } else {
    reply = connection_->command({"XREAD", "COUNT", count, "STREAMS", kEventStreamKey, last_id_});
  }
  if (!reply) {
    connected_ = false;
    return connection_->error();
  }
  if (reply->type == REDIS_REPLY_NIL) return {};
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
      reply->element[0]->type != REDIS_REPLY_ARRAY || reply->element[0]->elements != 2) {
    return reply->type == REDIS_REPLY_ERROR
               ? std::string(redis::reply_text(*reply))
               : std::string("XREAD ") + std::string(kEventStreamKey) + ": unexpected reply";
  }

  const redisReply& list = *reply->element[0]->element[1];
  StateChanges changes;
  for (std::size_t i = 0; i < list.elements; ++i) {
    const redisReply& entry = *list.element[i];
    if (entry.type != REDIS_REPLY_ARRAY || entry.elements != 2) continue;
    last_id_ = std::string(redis::reply_text(*entry.element[0]));
    ++entries;
    const redisReply& fields = *entry.element[1];
    std::string_view payload;
    for (std::size_t f = 0; f + 1 < fields.elements; f += 2) {
      if (redis::reply_text(*fields.element[f]) == kEventField) {
        payload = redis::reply_text(*fields.element[f + 1]);
      }
    }
    if (!decode_state_changes(payload, changes)) {
      std::uint64_t invalid = entries_invalid_.fetch_add(1) + 1;
      if ((invalid & (invalid - 1)) == 0) {
        logger()->error("{}: entry {} does not decode ({} bytes); skipped ({} so far)",
                        kEventStreamKey, last_id_, payload.size(), invalid);
      }
      continue;
    }
    AppliedCounts counts = apply_state_changes(std::move(changes), orders_, users_, market_);
    if (counts.max_order_id > max_order_id_.load()) max_order_id_ = counts.max_order_id;
    entries_applied_.fetch_add(1);
  }
  return {};
}

void StateSubscriber::run() {
  std::uint64_t failures = 0;
  while (!stopping_) {
    std::size_t entries = 0;
    std::string error = read_once(kSubscriberBlock, entries);
    if (error.empty()) {
      if (failures > 0)
        logger()->info("{}: reading again after {} {}", kEventStreamKey, failures,
                       failures == 1 ? "failure" : "failures");
      failures = 0;
      continue;
    }
    ++failures;
    if ((failures & (failures - 1)) == 0) {
      logger()->warn("{}: read failed ({} in a row), retrying: {}", kEventStreamKey, failures,
                     error);
    }
    connection_.reset();
    std::this_thread::sleep_for(kRetryDelay);
  }
}

}  // namespace hft::gateway
