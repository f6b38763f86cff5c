#include "gateway/redis_engine.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "gateway/journal_codec.h"

namespace hft::gateway {

namespace {

constexpr auto kRetryDelay = std::chrono::milliseconds(500);
// How long the reader sleeps while the worker's queue is full.
constexpr auto kQueueFullWait = std::chrono::milliseconds(1);

std::shared_ptr<spdlog::logger> logger() {
  auto found = spdlog::get("redis");
  return found ? found : spdlog::default_logger();
}

// True for the 1st, 2nd, 4th, 8th, ... occurrence, so repeated errors log a short trail.
bool worth_logging(std::uint64_t occurrence) { return (occurrence & (occurrence - 1)) == 0; }

}  // namespace

// Marks a read batch durable when the journal commit covering its last command succeeds. Runs
// on the journal's flusher thread.
class RedisEngine::DurableTarget final : public ReplyTarget {
 public:
  DurableTarget(std::shared_ptr<ReadBatch> batch, const StatePublisher& publisher)
      : batch_(std::move(batch)), publisher_(publisher) {}

  [[nodiscard]] std::size_t thread_index() const override { return 0; }
  void complete(Completion& completion) override {
    if (!completion.durable) return;
    // The worker queued the batch's state with the publisher just before this call.
    batch_->state_sequence = publisher_.enqueued();
    batch_->durable = true;
  }

 private:
  std::shared_ptr<ReadBatch> batch_;
  const StatePublisher& publisher_;
};

RedisEngine::RedisEngine(redis::RedisUrl url, CommandQueue& queue, OrderStore& orders,
                         UserDirectory& users, MarketView& market, BatchWorker& worker,
                         StatePublisher& publisher)
    : url_(std::move(url)),
      queue_(queue),
      orders_(orders),
      users_(users),
      market_(market),
      worker_(worker),
      publisher_(publisher),
      stream_stats_(url_) {}

RedisEngine::~RedisEngine() { stop_reading(); }

CompletionSink RedisEngine::completion_sink() {
  return [](std::vector<Completion>&& completions) {
    for (Completion& completion : completions) completion.target->complete(completion);
  };
}

std::string RedisEngine::start() {
  redis::ConsumerOptions options;
  options.url = url_;
  redis::ConsumerOpenResult opened = redis::OrderConsumer::open(std::move(options));
  if (!opened.consumer) return opened.error;
  consumer_ = std::move(opened.consumer);
  connected_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void RedisEngine::stop_reading() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void RedisEngine::acknowledge_durable_batches() {
  if (!consumer_) return;
  std::vector<redis::StreamEntry> entries;
  // A batch is acknowledged once it is durable and its state is in the state stream (or was
  // given up): after an acknowledgement no restart can publish that state again.
  const std::uint64_t state_done = publisher_.processed();
  while (!in_flight_.empty() && in_flight_.front()->durable.load() &&
         in_flight_.front()->state_sequence.load() <= state_done) {
    for (redis::StreamEntry& entry : in_flight_.front()->entries) {
      entries.push_back(std::move(entry));
    }
    in_flight_.pop_front();
  }
  if (entries.empty()) return;
  std::string error = consumer_->acknowledge(entries);
  if (!error.empty()) {
    // The entries stay pending, so the next start takes them over and skips them as repeats.
    logger()->warn("XACK of {} entries failed; they will be delivered again: {}", entries.size(),
                   error);
    return;
  }
  entries_acknowledged_.fetch_add(entries.size());
}

void RedisEngine::run() {
  bool failure_logged = false;
  while (!stopping_) {
    acknowledge_durable_batches();
    // After a journal failure nothing becomes durable: stop reading, and leave every entry
    // pending for the next start to take over.
    if (worker_.journal_failed()) {
      if (!failure_logged) {
        failure_logged = true;
        logger()->error(
            "the journal failed: no more entries are read or acknowledged; restart "
            "the engine to take them over");
      }
      std::this_thread::sleep_for(kRetryDelay);
      continue;
    }

    redis::ReadResult read = consumer_->read_batch();
    if (!read.ok()) {
      connected_ = false;
      std::uint64_t failures = read_failures_.fetch_add(1) + 1;
      if (worth_logging(failures)) {
        logger()->warn("reading the order streams failed ({} {}), retrying: {}", failures,
                       failures == 1 ? "time" : "times", read.error);
      }
      std::this_thread::sleep_for(kRetryDelay);
      continue;
    }
    connected_ = true;
    if (read.entries.empty()) continue;

    auto batch = std::make_shared<ReadBatch>();
    batch->entries = std::move(read.entries);
    entries_read_.fetch_add(batch->entries.size());
    if (!push_batch(batch)) break;
    in_flight_.push_back(std::move(batch));
  }
  taken_over_ = consumer_->entries_taken_over();
}

bool RedisEngine::push_batch(const std::shared_ptr<ReadBatch>& batch) {
  std::vector<std::pair<Command, std::size_t>> commands;
  std::vector<Command> skipped;
  for (const redis::StreamEntry& entry : batch->entries) {
    if (!entry.defect.empty()) {
      std::uint64_t invalid = entries_invalid_.fetch_add(1) + 1;
      if (worth_logging(invalid)) {
        logger()->error("stream entry {} of shard {} is invalid and skipped: {}", entry.stream_id,
                        entry.shard, entry.defect);
      }
      continue;
    }
    Command command;
    std::span<const std::byte> payload(reinterpret_cast<const std::byte*>(entry.payload.data()),
                                       entry.payload.size());
    if (!decode_command(entry.type, payload, command)) {
      std::uint64_t invalid = entries_invalid_.fetch_add(1) + 1;
      if (worth_logging(invalid)) {
        logger()->error("stream entry {} (type {}, {} bytes) does not decode and is skipped",
                        entry.stream_id, entry.type, entry.payload.size());
      }
      continue;
    }
    if (!accept_command(command)) {
      entries_skipped_.fetch_add(1);
      if (command.kind == CommandKind::kNewOrders) skipped.push_back(std::move(command));
      continue;
    }
    std::size_t weight = std::max<std::size_t>(1, command.orders.size());
    commands.emplace_back(std::move(command), weight);
  }

  if (!skipped.empty()) republish(skipped);
  if (commands.empty()) {
    batch->state_sequence = publisher_.enqueued();
    batch->durable = true;
    return true;
  }
  commands.back().first.reply_target = std::make_shared<DurableTarget>(batch, publisher_);
  for (auto& [command, weight] : commands) {
    if (!push_command(std::move(command), weight)) return false;
  }
  return true;
}

bool RedisEngine::push_command(Command&& command, std::size_t weight) {
  command.enqueued_steady_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count();
  while (true) {
    queue::PushResult result = queue_.try_push(std::move(command), weight);
    if (result == queue::PushResult::kOk) return true;
    if (result == queue::PushResult::kClosed || stopping_) return false;
    std::this_thread::sleep_for(kQueueFullWait);
  }
}

void RedisEngine::republish(const std::vector<Command>& skipped) {
  // NOTE: the worker may change one of these orders meanwhile. If its newer state reaches the
  // stream first, gateways show this older one until the order changes again.
  StateChanges changes;
  std::set<std::string> symbols;
  std::set<std::uint64_t> users;
  for (const Command& command : skipped) {
    users.insert(command.user.value);
    for (const NewOrderCommand& order : command.orders) {
      if (auto record = orders_.find(order.id)) changes.orders.push_back(*record);
      symbols.emplace(order.request.symbol.view());
    }
  }
  for (const std::string& symbol : symbols) {
    if (auto book = market_.book(symbol)) changes.books.emplace_back(symbol, std::move(book));
  }
  for (std::uint64_t user : users) {
    if (auto positions = market_.positions(engine::UserId{user})) {
      changes.positions.emplace_back(engine::UserId{user}, std::move(positions));
    }
  }
  publisher_.publish(std::move(changes));
}

bool RedisEngine::accept_command(Command& command) {
  switch (command.kind) {
    case CommandKind::kCancel:
      return true;

    case CommandKind::kRegisterUser:
      if (users_.find(command.user) != nullptr) return false;
      if (!users_.restore(command.user, command.username, command.email, command.password_hash)) {
        logger()->error("user {} (\"{}\") conflicts with a known account; registration skipped",
                        command.user.value, command.username);
        return false;
      }
      return true;

    case CommandKind::kNewOrders:
      break;
  }

  if (command.orders.empty() || orders_.find(command.orders.front().id)) return false;
  // The records exist before the worker applies the orders, as the in-process queue does it, and
  // they make a later copy of this entry recognisable.
  OrderRecord record;
  record.user = command.user;
  for (const NewOrderCommand& order : command.orders) {
    record.id = order.id;
    record.request = order.request;
    record.created_unix_ns = order.created_unix_ns;
    if (!orders_.create(record)) {
      logger()->error("order id {} is out of range; the entry is skipped", order.id.value);
      return false;
    }
  }
  return true;
}

bool RedisEngine::healthy() { return connected_.load() && !worker_.journal_failed(); }

void RedisEngine::append_health(JsonWriter& writer) {
  writer.member("role", "engine").member("redis_connected", connected_.load());
  append_stream_health(writer, stream_stats_.get());
  writer.member("state_queued", static_cast<std::uint64_t>(publisher_.queued()));
}

void RedisEngine::append_metrics(std::string& out) {
  auto sink = std::back_inserter(out);
  auto line = [&](std::string_view name, std::string_view type, std::string_view help,
                  std::uint64_t value) {
    fmt::format_to(sink, "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name,
                   value);
  };
  line("hft_redis_entries_read_total", "counter", "Order stream entries read by the engine.",
       entries_read_.load());
  line("hft_redis_entries_skipped_total", "counter",
       "Entries skipped because the engine already held them (repeats after a takeover).",
       entries_skipped_.load());
  line("hft_redis_entries_invalid_total", "counter", "Entries that did not decode.",
       entries_invalid_.load());
  line("hft_redis_entries_acknowledged_total", "counter", "Entries acknowledged with XACK.",
       entries_acknowledged_.load());
  line("hft_redis_read_failures_total", "counter", "Failed reads of the order streams.",
       read_failures_.load());
  line("hft_redis_connected", "gauge", "1 while the engine reads the order streams.",
       connected_.load() ? 1 : 0);
  line("hft_state_published_total", "counter", "Engine batches whose state reached Redis.",
       publisher_.published());
  line("hft_state_dropped_total", "counter", "State batches not sent to the gateways.",
       publisher_.dropped());
  append_stream_metrics(out, stream_stats_.get());
}

}  // namespace hft::gateway
