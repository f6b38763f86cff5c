#include "gateway/batch_worker.h"

#include <fmt/format.h>

#include <algorithm>

#include "gateway/journal_codec.h"
#include "gateway/store_feed.h"

namespace hft::gateway {

namespace {

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// How long pop_batch sleeps on an empty queue before the loop refreshes its heartbeat.
constexpr auto kIdleWait = std::chrono::milliseconds(100);

// Rows per store batch during replay: large enough for few transactions, small enough that the
// writer starts while replay goes on.
constexpr std::size_t kReplayRowsPerStoreBatch = 20'000;

// How long one wait for space in the store's queue lasts before the worker refreshes its
// heartbeat and checks for a stop.
constexpr auto kStoreWaitStep = std::chrono::milliseconds(100);

std::int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// Applies engine events to the order store, notes what the snapshots must refresh and, when a
// feed is set, what the PostgreSQL sink must write.
class BatchWorker::Events final : public engine::EventSink {
 public:
  Events(OrderStore& orders, Metrics& metrics, std::unordered_set<std::string>& touched_symbols,
         std::unordered_set<std::uint64_t>& touched_users)
      : orders_(orders),
        metrics_(metrics),
        touched_symbols_(touched_symbols),
        touched_users_(touched_users) {}

  void on_accepted(const engine::OrderAccepted& event) override {
    metrics_.orders_accepted.fetch_add(1, std::memory_order_relaxed);
    touch_symbol(event.symbol);
    if (feed_ != nullptr) feed_->touch_symbol(event.symbol_id, event.symbol);
  }

  void on_rejected(const engine::OrderRejected& event) override {
    last_reject_ = event.reason;
    if (event.request != engine::RequestKind::kNew) return;
    orders_.mark_rejected(event.id, event.reason);
    metrics_.reject(event.reason);
    if (touched_orders_ != nullptr) touched_orders_->push_back(event.id.value);
    if (feed_ != nullptr) feed_->touch_order(event.id);
  }

  void on_trade(const engine::Trade& event) override {
    metrics_.trades.fetch_add(1, std::memory_order_relaxed);
    touched_users_.insert(event.maker_user.value);
    touched_users_.insert(event.taker_user.value);
    if (feed_ != nullptr) feed_->add_trade(event, taker_created_unix_ns_);
  }

  void on_update(const engine::OrderUpdate& event) override {
    orders_.apply_update(event.id, to_api_status(event.status), event.filled,
                         event.filled_notional);
    if (feed_ != nullptr) feed_->touch_order(event.id);
    if (touched_orders_ != nullptr) touched_orders_->push_back(event.id.value);
  }

  void touch_symbol(std::string_view symbol) {
    if (last_symbol_ == symbol) return;
    last_symbol_ = symbol;
    touched_symbols_.emplace(symbol);
  }

  void begin_batch() { last_symbol_ = {}; }

  engine::RejectReason last_reject_ = engine::RejectReason::kUnknownOrder;
  // Where the rows of the current command go; null when they are not collected.
  StoreFeed* feed_ = nullptr;
  // Where the ids of changed orders go for the state sink; null when they are not collected.
  std::vector<std::uint64_t>* touched_orders_ = nullptr;
  // The gateway's timestamp of the order being submitted. Trades take it as their time, so a
  // replay writes the same value again.
  std::int64_t taker_created_unix_ns_ = 0;

 private:
  OrderStore& orders_;
  Metrics& metrics_;
  std::unordered_set<std::string>& touched_symbols_;
  std::unordered_set<std::uint64_t>& touched_users_;
  // A view into the engine's symbol table, which outlives every batch.
  std::string_view last_symbol_;
};

BatchWorker::BatchWorker(engine::EngineConfig config, BatchWorkerOptions options,
                         CommandQueue& queue, OrderStore& orders, UserDirectory& users,
                         MarketView& market, Metrics& metrics)
    : config_(config),
      options_(options),
      queue_(queue),
      orders_(orders),
      users_(users),
      market_(market),
      metrics_(metrics),
      engine_(std::move(config)),
      events_(std::make_unique<Events>(orders_, metrics_, touched_symbols_, touched_users_)) {}

BatchWorker::~BatchWorker() {
  if (thread_.joinable()) {
    queue_.close();
    (void)stop();
  }
}

void BatchWorker::set_store(store::StoreWriter* writer) {
  store_ = writer;
  feed_ = writer != nullptr ? std::make_unique<StoreFeed>() : nullptr;
  events_->feed_ = feed_.get();
}

void BatchWorker::set_state_sink(StateSink* sink) {
  state_sink_ = sink;
  events_->touched_orders_ = sink != nullptr ? &touched_orders_ : nullptr;
}

ReplaySummary BatchWorker::replay(const std::filesystem::path& dir) {
  ReplaySummary summary;
  Command command;
  Completion ignored;
  std::uint64_t max_order_id = 0;
  // Records up to this sequence have their rows in the store already.
  const std::uint64_t store_written =
      store_ != nullptr ? store_->last_written_sequence() : UINT64_MAX;
  std::uint64_t unsent_sequence = 0;

  summary.journal = journal::replay_journal(dir, [&](const journal::Record& record) {
    if (!summary.error.empty()) return;
    if (!decode_command(record.type, record.payload, command)) {
      summary.error = fmt::format("journal record {} (type {}, {} bytes) does not decode",
                                  record.sequence, record.type, record.payload.size());
      return;
    }
    const bool to_store = record.sequence > store_written;
    events_->feed_ = to_store ? feed_.get() : nullptr;
    if (to_store) {
      ++summary.store_records;
      unsent_sequence = record.sequence;
    }

    switch (command.kind) {
      case CommandKind::kRegisterUser:
        if (!users_.restore(command.user, command.username, command.email, command.password_hash)) {
          summary.error = fmt::format("journal record {}: user {} ({}) is registered twice",
                                      record.sequence, command.user.value, command.username);
          return;
        }
        ++summary.users;
        break;
      case CommandKind::kNewOrders:
        for (const NewOrderCommand& order : command.orders) {
          max_order_id = std::max(max_order_id, order.id.value);
        }
        summary.orders += command.orders.size();
        break;
      case CommandKind::kCancel:
        ++summary.cancels;
        break;
    }
    apply(command, true, ignored);
    if (to_store && feed_->pending_rows() >= kReplayRowsPerStoreBatch) {
      submit_rows(record.sequence);
      unsent_sequence = 0;
    }
  });

  if (summary.error.empty() && !summary.journal.ok()) summary.error = summary.journal.error;
  if (summary.error.empty() && unsent_sequence > 0) submit_rows(unsent_sequence);
  events_->feed_ = feed_.get();
  last_journal_sequence_.store(summary.journal.last_sequence, std::memory_order_relaxed);
  summary.next_order_id = max_order_id + 1;
  publish_snapshots();
  std::lock_guard lock(stats_mutex_);
  engine_stats_ = engine_.stats();
  return summary;
}

std::string BatchWorker::start(const std::filesystem::path& dir, journal::JournalOptions options,
                               CompletionSink completions) {
  journal::OpenResult opened = journal::JournalWriter::open(dir, std::move(options));
  if (!opened.writer) return opened.error;
  journal_ = std::move(opened.writer);
  completions_ = std::move(completions);

  heartbeat_ns_ = steady_now_ns();
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

std::string BatchWorker::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (!journal_) return {};
  return journal_->close();
}

bool BatchWorker::alive() const {
  if (!running_) return false;
  auto age_ns = steady_now_ns() - heartbeat_ns_.load(std::memory_order_relaxed);
  return age_ns < std::chrono::nanoseconds(std::chrono::seconds(5)).count();
}

bool BatchWorker::journal_failed() const { return journal_ && journal_->failed(); }

std::string BatchWorker::journal_error() const { return journal_ ? journal_->error() : ""; }

journal::JournalStats BatchWorker::journal_stats() const {
  return journal_ ? journal_->stats() : journal::JournalStats{};
}

engine::EngineStats BatchWorker::engine_stats() const {
  std::lock_guard lock(stats_mutex_);
  return engine_stats_;
}

void BatchWorker::run() {
  std::vector<Command> batch;
  batch.reserve(options_.batch_size);

  while (true) {
    batch.clear();
    std::size_t taken =
        queue_.pop_batch(batch, options_.batch_size, options_.batch_timeout, kIdleWait);
    heartbeat_ns_.store(steady_now_ns(), std::memory_order_relaxed);
    if (taken == 0) {
      // The queue is closed before stopping_ is set, so an empty pop after that is final.
      if (stopping_ && queue_.depth_weight() == 0) break;
      continue;
    }
    process_batch(batch);
  }
  running_ = false;
}

void BatchWorker::process_batch(std::vector<Command>& batch) {
  // Journal first: a command is applied only after its record is in the writer's buffer, and
  // the commit below covers every record of the batch.
  std::size_t order_count = 0;
  std::uint64_t last_sequence = 0;
  for (const Command& command : batch) {
    RecordType type = encode_command(command, payload_);
    last_sequence = journal_->append(static_cast<std::uint16_t>(type), payload_);
    order_count += command.orders.size();
  }
  last_journal_sequence_.store(last_sequence, std::memory_order_relaxed);

  // Apply to the engine, collecting the replies that wait for durability.
  std::vector<Completion> completions;
  events_->begin_batch();
  auto match_start = std::chrono::steady_clock::now();
  for (Command& command : batch) {
    Completion completion;
    apply(command, false, completion);
    if (command.reply_target) {
      completion.target = std::move(command.reply_target);
      completion.slot = command.reply_slot;
      completion.prepared_reply = std::move(command.prepared_reply);
      completions.push_back(std::move(completion));
    }
  }
  std::chrono::duration<double> match_time = std::chrono::steady_clock::now() - match_start;
  metrics_.matching_seconds.observe(match_time.count());
  metrics_.batches.fetch_add(1, std::memory_order_relaxed);
  metrics_.batch_orders.observe(static_cast<double>(order_count));

  ++batch_number_;
  publish_snapshots();
  StateChanges changes;
  if (state_sink_ != nullptr) changes = take_state_changes();
  {
    std::lock_guard lock(stats_mutex_);
    engine_stats_ = engine_.stats();
  }

  // Release the waiting replies once the fsync covering the batch has completed. The store
  // writes the batch's rows only then, so a crash cannot leave a row without its record.
  std::int64_t oldest_enqueued_ns = batch.front().enqueued_steady_ns;
  journal_->commit([this, completions = std::move(completions), changes = std::move(changes),
                    oldest_enqueued_ns](const journal::CommitOutcome& outcome) mutable {
    double waited_s = static_cast<double>(steady_now_ns() - oldest_enqueued_ns) * 1e-9;
    metrics_.durable_ack_seconds.observe(waited_s);
    if (store_ != nullptr && outcome.ok) store_->set_durable_sequence(outcome.durable_sequence);
    if (state_sink_ != nullptr && outcome.ok && !changes.empty()) {
      state_sink_->publish(std::move(changes));
    }
    if (completions.empty()) return;
    for (Completion& completion : completions) completion.durable = outcome.ok;
    completions_(std::move(completions));
  });

  // After the commit, so a wait for the store's queue does not hold back this batch's replies.
  if (store_ != nullptr) submit_rows(last_sequence);
}

void BatchWorker::apply(const Command& command, bool replaying, Completion& completion) {
  switch (command.kind) {
    case CommandKind::kRegisterUser:
      // The I/O thread added the account when it queued the command (replay restored it).
      // NOTE: the journal has no registration time, so a user row re-sent by a replay gets the
      // replay's time.
      if (events_->feed_ != nullptr) events_->feed_->add_user(command, unix_now_ns());
      if (state_sink_ != nullptr && !replaying) {
        state_changes_.users.push_back(
            UserChange{command.user, command.username, command.email, command.password_hash});
      }
      return;

    case CommandKind::kCancel: {
      auto status = engine_.cancel(command.cancel_id, command.user, *events_);
      completion.applied = status.ok();
      // Also after a rejected cancel, so a cancel delivered twice publishes the order's state.
      if (events_->touched_orders_ != nullptr) {
        events_->touched_orders_->push_back(command.cancel_id.value);
      }
      if (!status.ok()) {
        completion.reason = status.reason();
        return;
      }
      // The cancelled order left its book, so the book's snapshot is published again.
      if (auto record = orders_.find(command.cancel_id)) {
        touched_symbols_.emplace(record->request.symbol.view());
      }
      return;
    }

    case CommandKind::kNewOrders:
      break;
  }

  for (const NewOrderCommand& order : command.orders) {
    if (replaying) {
      OrderRecord record;
      record.id = order.id;
      record.user = command.user;
      record.request = order.request;
      record.created_unix_ns = order.created_unix_ns;
      (void)orders_.create(record);
      users_.add_order(command.user, order.id);
    }

    engine::NewOrder request;
    request.id = order.id;
    request.user = command.user;
    request.symbol = order.request.symbol.view();
    request.side = order.request.side;
    request.type = order.request.type;
    request.price = order.request.price;
    request.quantity = order.request.quantity;
    request.post_only = order.request.post_only;
    request.timestamp_ns = order.created_unix_ns;
    events_->taker_created_unix_ns_ = order.created_unix_ns;
    (void)engine_.submit(request, *events_);
    if (events_->touched_orders_ != nullptr && !replaying) {
      events_->touched_orders_->push_back(order.id.value);
    }
  }
}

void BatchWorker::publish_snapshots() {
  for (const std::string& symbol : touched_symbols_) {
    auto snapshot = std::make_shared<BookSnapshot>();
    snapshot->depth = engine_.depth(symbol, MarketView::kMaxDepthLevels);
    snapshot->batch = batch_number_;
    if (state_sink_ != nullptr) state_changes_.books.emplace_back(symbol, snapshot);
    market_.publish_book(symbol, std::move(snapshot));
  }
  touched_symbols_.clear();

  for (std::uint64_t user : touched_users_) {
    auto snapshot = std::make_shared<std::vector<PositionSnapshot>>();
    for (const engine::Position& position : engine_.positions(engine::UserId{user})) {
      snapshot->push_back(PositionSnapshot{std::string(position.symbol), position});
    }
    if (state_sink_ != nullptr)
      state_changes_.positions.emplace_back(engine::UserId{user}, snapshot);
    market_.publish_positions(engine::UserId{user}, std::move(snapshot));
  }
  touched_users_.clear();
}

}  // namespace hft::gateway

namespace hft::gateway {

StateChanges BatchWorker::take_state_changes() {
  std::sort(touched_orders_.begin(), touched_orders_.end());
  touched_orders_.erase(std::unique(touched_orders_.begin(), touched_orders_.end()),
                        touched_orders_.end());
  state_changes_.orders.reserve(touched_orders_.size());
  for (std::uint64_t id : touched_orders_) {
    if (auto record = orders_.find(engine::OrderId{id})) state_changes_.orders.push_back(*record);
  }
  touched_orders_.clear();
  StateChanges changes = std::move(state_changes_);
  state_changes_ = {};
  return changes;
}

void BatchWorker::submit_rows(std::uint64_t journal_sequence) {
  store::Batch rows = feed_->take(journal_sequence, orders_, engine_);
  if (store_abandoned_) return;

  // Wait while the writer's queue is full: a batch skipped here would leave a gap that the
  // progress row jumps over. The journal keeps every record meanwhile.
  // NOTE: so an outage longer than the writer's queue holds stalls matching and, through the
  // full command queue, makes the API answer 503 until PostgreSQL is back.
  while (true) {
    // The other outcomes lose nothing: kAlreadyWritten means the store has the rows, kClosed
    // comes only after shutdown, and sequences only grow (replay ends before the first batch).
    if (store_->submit_within(rows, kStoreWaitStep) != store::SubmitStatus::kQueueFull) return;
    metrics_.db_queue_full_waits.fetch_add(1, std::memory_order_relaxed);
    heartbeat_ns_.store(steady_now_ns(), std::memory_order_relaxed);
    if (stopping_) {
      // Submitting no more keeps the progress row below this batch, so the next start re-sends
      // the rest from the journal.
      store_abandoned_ = true;
      return;
    }
  }
}

}  // namespace hft::gateway
