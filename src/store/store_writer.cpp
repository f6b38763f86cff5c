#include "store/store_writer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iterator>
#include <map>
#include <unordered_map>
#include <utility>

#include "store/schema.h"

namespace hft::store {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto found = spdlog::get("store");
  return found ? found : spdlog::default_logger();
}

// Staging tables live for the session and are emptied by every COMMIT. Their timestamps stay
// Unix nanoseconds until the upsert converts them.
constexpr std::string_view kCreateStagingTables = R"sql(
CREATE TEMP TABLE IF NOT EXISTS stage_instruments (
  symbol TEXT, tick_size NUMERIC, lot_size NUMERIC) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_users (
  user_id BIGINT, username TEXT, email TEXT, created_unix_ns BIGINT) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_orders (
  order_id BIGINT, user_id BIGINT, symbol TEXT, side TEXT, order_type TEXT, price_ticks BIGINT,
  quantity_lots BIGINT, filled_lots BIGINT, filled_notional BIGINT, status TEXT,
  client_order_id TEXT, reject_reason TEXT, created_unix_ns BIGINT, journal_sequence BIGINT)
  ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_trades (
  trade_id BIGINT, symbol TEXT, price_ticks BIGINT, quantity_lots BIGINT, maker_order_id BIGINT,
  taker_order_id BIGINT, maker_user_id BIGINT, taker_user_id BIGINT, aggressor TEXT,
  executed_unix_ns BIGINT, journal_sequence BIGINT) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_positions (
  user_id BIGINT, symbol TEXT, net_lots BIGINT, cash_notional BIGINT,
  realized_pnl_notional BIGINT, open_cost_notional BIGINT, bought_lots BIGINT, sold_lots BIGINT,
  journal_sequence BIGINT) ON COMMIT DELETE ROWS;
)sql";

// Unix nanoseconds to TIMESTAMPTZ, exact to the microsecond that PostgreSQL keeps.
#define HFT_STORE_TIMESTAMP(column) \
  "timestamptz 'epoch' + (" column " / 1000) * interval '1 microsecond'"

constexpr std::string_view kUpsertInstruments = R"sql(
INSERT INTO instruments (symbol, tick_size, lot_size)
SELECT symbol, tick_size, lot_size FROM stage_instruments
ON CONFLICT (symbol) DO UPDATE SET tick_size = EXCLUDED.tick_size, lot_size = EXCLUDED.lot_size
)sql";

// A user never changes once registered, so a repeated row changes nothing.
constexpr std::string_view kInsertUsers =
    "INSERT INTO users (user_id, username, email, created_at) "
    "SELECT user_id, username, email, " HFT_STORE_TIMESTAMP(
        "created_unix_ns") " FROM stage_users ON CONFLICT (user_id) DO NOTHING";

// The WHERE clause keeps a row from an older journal sequence from replacing a newer state.
constexpr std::string_view kUpsertOrders =
    "INSERT INTO orders (order_id, user_id, symbol, side, order_type, price_ticks, quantity_lots,"
    " filled_lots, filled_notional, status, client_order_id, reject_reason, created_at,"
    " journal_sequence) "
    "SELECT order_id, user_id, symbol, side, order_type, price_ticks, quantity_lots, filled_lots,"
    " filled_notional, status, client_order_id, reject_reason, "
    HFT_STORE_TIMESTAMP("created_unix_ns") ", journal_sequence FROM stage_orders "
    "ON CONFLICT (order_id) DO UPDATE SET price_ticks = EXCLUDED.price_ticks,"
    " quantity_lots = EXCLUDED.quantity_lots, filled_lots = EXCLUDED.filled_lots,"
    " filled_notional = EXCLUDED.filled_notional, status = EXCLUDED.status,"
    " reject_reason = EXCLUDED.reject_reason, journal_sequence = EXCLUDED.journal_sequence "
    "WHERE orders.journal_sequence <= EXCLUDED.journal_sequence";

constexpr std::string_view kInsertTrades =
    "INSERT INTO trades (trade_id, symbol, price_ticks, quantity_lots, maker_order_id,"
    " taker_order_id, maker_user_id, taker_user_id, aggressor, executed_at, journal_sequence) "
    "SELECT trade_id, symbol, price_ticks, quantity_lots, maker_order_id, taker_order_id,"
    " maker_user_id, taker_user_id, aggressor, " HFT_STORE_TIMESTAMP(
        "executed_unix_ns") ", journal_sequence FROM stage_trades ON CONFLICT (trade_id) DO "
                            "NOTHING";

constexpr std::string_view kUpsertPositions =
    "INSERT INTO positions (user_id, symbol, net_lots, cash_notional, realized_pnl_notional,"
    " open_cost_notional, bought_lots, sold_lots, journal_sequence) "
    "SELECT user_id, symbol, net_lots, cash_notional, realized_pnl_notional, open_cost_notional,"
    " bought_lots, sold_lots, journal_sequence FROM stage_positions "
    "ON CONFLICT (user_id, symbol) DO UPDATE SET net_lots = EXCLUDED.net_lots,"
    " cash_notional = EXCLUDED.cash_notional,"
    " realized_pnl_notional = EXCLUDED.realized_pnl_notional,"
    " open_cost_notional = EXCLUDED.open_cost_notional, bought_lots = EXCLUDED.bought_lots,"
    " sold_lots = EXCLUDED.sold_lots, journal_sequence = EXCLUDED.journal_sequence "
    "WHERE positions.journal_sequence <= EXCLUDED.journal_sequence";

#undef HFT_STORE_TIMESTAMP

constexpr std::string_view kSetProgress =
    "INSERT INTO store_progress (sink, journal_sequence) VALUES ($1, $2) "
    "ON CONFLICT (sink) DO UPDATE SET journal_sequence = EXCLUDED.journal_sequence,"
    " updated_at = now()";

// The COPY text of each staging table for a group of batches. ON CONFLICT DO UPDATE may touch a
// row only once per statement, so orders, positions and instruments keep their last row.
struct CopyData {
  std::string instruments;
  std::string users;
  std::string orders;
  std::string trades;
  std::string positions;
};

void append_field(std::string& out, std::string_view text) {
  append_copy_text(out, text);
  out.push_back('\t');
}

void end_row(std::string& out) { out.back() = '\n'; }

CopyData build_copy_data(const std::deque<Batch>& batches) {
  std::map<std::string_view, const InstrumentRow*> instruments;
  std::unordered_map<std::uint64_t, std::pair<const OrderRow*, std::uint64_t>> orders;
  std::map<std::pair<std::uint64_t, std::string_view>, std::pair<const PositionRow*, std::uint64_t>>
      positions;
  CopyData data;
  auto out = [](std::string& text) { return std::back_inserter(text); };

  for (const Batch& batch : batches) {
    for (const InstrumentRow& row : batch.instruments) instruments[row.symbol] = &row;
    for (const OrderRow& row : batch.orders) {
      orders[row.order.value] = {&row, batch.journal_sequence};
    }
    for (const PositionRow& row : batch.positions) {
      positions[{row.user.value, row.symbol}] = {&row, batch.journal_sequence};
    }
    for (const UserRow& row : batch.users) {
      fmt::format_to(out(data.users), "{}\t", row.user.value);
      append_field(data.users, row.username);
      append_field(data.users, row.email);
      fmt::format_to(out(data.users), "{}\n", row.created_unix_ns);
    }
    for (const TradeRow& row : batch.trades) {
      fmt::format_to(out(data.trades), "{}\t", row.trade_id);
      append_field(data.trades, row.symbol);
      fmt::format_to(out(data.trades), "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n", row.price.ticks,
                     row.quantity.lots, row.maker_order.value, row.taker_order.value,
                     row.maker_user.value, row.taker_user.value, engine::to_string(row.aggressor),
                     row.executed_unix_ns, batch.journal_sequence);
    }
  }

  for (const auto& [symbol, row] : instruments) {
    append_field(data.instruments, symbol);
    append_field(data.instruments, engine::to_string(row->tick_size));
    append_field(data.instruments, engine::to_string(row->lot_size));
    end_row(data.instruments);
  }
  for (const auto& [id, entry] : orders) {
    const auto& [row, sequence] = entry;
    fmt::format_to(out(data.orders), "{}\t{}\t", id, row->user.value);
    append_field(data.orders, row->symbol);
    fmt::format_to(out(data.orders), "{}\t{}\t{}\t{}\t{}\t{}\t{}\t", engine::to_string(row->side),
                   engine::to_string(row->type), row->price.ticks, row->quantity.lots,
                   row->filled.lots, row->filled_notional.units, to_string(row->state));
    if (row->client_order_id.empty()) {
      data.orders += "\\N\t";
    } else {
      append_field(data.orders, row->client_order_id);
    }
    if (row->reject_reason) {
      append_field(data.orders, engine::to_string(*row->reject_reason));
    } else {
      data.orders += "\\N\t";
    }
    fmt::format_to(out(data.orders), "{}\t{}\n", row->created_unix_ns, sequence);
  }
  for (const auto& [key, entry] : positions) {
    const auto& [row, sequence] = entry;
    fmt::format_to(out(data.positions), "{}\t", key.first);
    append_field(data.positions, key.second);
    fmt::format_to(out(data.positions), "{}\t{}\t{}\t{}\t{}\t{}\t{}\n", row->net.lots,
                   row->cash.units, row->realized_pnl.units, row->open_cost.units, row->bought.lots,
                   row->sold.lots, sequence);
  }
  return data;
}

}  // namespace

std::string_view to_string(OrderState state) {
  switch (state) {
    case OrderState::kQueued:
      return "QUEUED";
    case OrderState::kOpen:
      return "OPEN";
    case OrderState::kPartiallyFilled:
      return "PARTIALLY_FILLED";
    case OrderState::kFilled:
      return "FILLED";
    case OrderState::kCancelled:
      return "CANCELLED";
    case OrderState::kRejected:
      return "REJECTED";
  }
  return "QUEUED";
}

StoreWriter::StoreWriter(WriterOptions options)
    : options_(std::move(options)), backoff_(options_.reconnect_backoff_min) {}

WriterOpenResult StoreWriter::open(WriterOptions options) {
  std::unique_ptr<StoreWriter> writer(new StoreWriter(std::move(options)));
  ConnectResult connected =
      Connection::connect(writer->options_.url, writer->options_.connect_timeout);
  if (!connected.connection) return {nullptr, std::move(connected.error)};
  writer->connection_ = std::move(connected.connection);

  std::string error = migrate(*writer->connection_);
  if (error.empty()) error = writer->prepare_session();
  std::uint64_t sequence = 0;
  if (error.empty()) error = writer->read_progress(sequence);
  if (!error.empty()) return {nullptr, std::move(error)};

  writer->last_written_.store(sequence, std::memory_order_release);
  writer->last_submitted_ = sequence;
  writer->connected_.store(true, std::memory_order_relaxed);
  logger()->info("writing to PostgreSQL at {}, sink '{}' written up to journal sequence {}",
                 writer->options_.url.redacted(), writer->options_.sink, sequence);
  writer->thread_ = std::thread([raw = writer.get()] { raw->run(); });
  return {std::move(writer), {}};
}

StoreWriter::~StoreWriter() { (void)close(std::chrono::seconds(10)); }

std::string StoreWriter::prepare_session() {
  Outcome created = connection_->execute(kCreateStagingTables);
  return created.error;
}

std::string StoreWriter::read_progress(std::uint64_t& sequence) {
  Outcome inserted = connection_->execute(
      "INSERT INTO store_progress (sink, journal_sequence) VALUES ($1, 0) "
      "ON CONFLICT (sink) DO NOTHING",
      {options_.sink});
  if (!inserted.ok()) return inserted.error;
  Outcome progress = connection_->execute(
      "SELECT journal_sequence FROM store_progress WHERE sink = $1", {options_.sink});
  if (!progress.ok()) return progress.error;
  sequence = std::stoull(PQgetvalue(progress.result.get(), 0, 0));
  return {};
}

SubmitStatus StoreWriter::submit(Batch batch) {
  return enqueue(batch, std::chrono::milliseconds::max());
}

SubmitStatus StoreWriter::try_submit(Batch batch) {
  return enqueue(batch, std::chrono::milliseconds(0));
}

SubmitStatus StoreWriter::submit_within(Batch& batch, std::chrono::milliseconds timeout) {
  return enqueue(batch, timeout);
}

SubmitStatus StoreWriter::enqueue(Batch& batch, std::chrono::milliseconds timeout) {
  const std::size_t rows = batch.row_count();
  std::unique_lock lock(mutex_);
  if (closing_) return SubmitStatus::kClosed;
  if (batch.journal_sequence <= last_written_.load(std::memory_order_acquire)) {
    return SubmitStatus::kAlreadyWritten;
  }
  if (batch.journal_sequence <= last_submitted_) return SubmitStatus::kOutOfOrder;

  // An empty queue takes any batch, so one larger than the bound cannot wait forever.
  auto has_space = [&] {
    return queued_rows_ == 0 || queued_rows_ + rows <= options_.max_queued_rows;
  };
  if (!has_space()) {
    if (timeout.count() == 0) return SubmitStatus::kQueueFull;
    auto ready = [&] { return closing_ || has_space(); };
    if (timeout == std::chrono::milliseconds::max()) {
      space_ready_.wait(lock, ready);
    } else if (!space_ready_.wait_for(lock, timeout, ready)) {
      return SubmitStatus::kQueueFull;
    }
    if (closing_) return SubmitStatus::kClosed;
  }

  last_submitted_ = batch.journal_sequence;
  queued_rows_ += rows;
  ++batches_in_flight_;
  queue_.push_back(std::move(batch));
  lock.unlock();
  work_ready_.notify_one();
  return SubmitStatus::kQueued;
}

std::size_t StoreWriter::close(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!thread_.joinable() || stop_now_) return 0;
  closing_ = true;
  work_ready_.notify_all();
  space_ready_.notify_all();

  space_ready_.wait_for(lock, timeout, [&] { return batches_in_flight_ == 0; });
  std::size_t unwritten = batches_in_flight_;
  stop_now_ = true;
  lock.unlock();
  work_ready_.notify_all();
  thread_.join();

  if (unwritten > 0) {
    logger()->warn(
        "stopped with {} batches unwritten; PostgreSQL has the rows up to journal sequence {}, "
        "and the journal keeps the rest",
        unwritten, last_written_sequence());
  }
  return unwritten;
}

void StoreWriter::set_durable_sequence(std::uint64_t sequence) {
  {
    std::lock_guard lock(mutex_);
    if (durable_limit_set_ && sequence <= durable_limit_) return;
    durable_limit_set_ = true;
    durable_limit_ = sequence;
  }
  work_ready_.notify_all();
}

std::uint64_t StoreWriter::lag(std::uint64_t journal_sequence) const {
  std::uint64_t written = last_written_sequence();
  return journal_sequence > written ? journal_sequence - written : 0;
}

WriterStats StoreWriter::stats() const {
  WriterStats stats;
  {
    std::lock_guard lock(mutex_);
    stats.last_submitted_sequence = last_submitted_;
    stats.queued_batches = batches_in_flight_;
    stats.queued_rows = queued_rows_;
  }
  stats.last_written_sequence = last_written_sequence();
  stats.rows_written = rows_written_.load(std::memory_order_relaxed);
  stats.transactions = transactions_.load(std::memory_order_relaxed);
  stats.failed_transactions = failed_transactions_.load(std::memory_order_relaxed);
  stats.reconnects = reconnects_.load(std::memory_order_relaxed);
  stats.connected = connected_.load(std::memory_order_relaxed);
  return stats;
}

std::string StoreWriter::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void StoreWriter::set_error(std::string error) {
  std::lock_guard lock(mutex_);
  last_error_ = std::move(error);
}

void StoreWriter::back_off() {
  std::unique_lock lock(mutex_);
  work_ready_.wait_for(lock, backoff_, [&] { return stop_now_; });
  backoff_ = std::min(backoff_ * 2, options_.reconnect_backoff_max);
}

bool StoreWriter::ensure_connected() {
  if (connection_ && !connection_->broken()) return true;

  if (connection_) {
    logger()->warn("lost the connection to PostgreSQL at {}", options_.url.redacted());
    connection_.reset();
    connected_.store(false, std::memory_order_relaxed);
  }

  ConnectResult result = Connection::connect(options_.url, options_.connect_timeout);
  std::string error = result.error;
  std::uint64_t sequence = 0;
  if (result.connection) {
    connection_ = std::move(result.connection);
    error = prepare_session();
    if (error.empty()) error = read_progress(sequence);
  }
  if (!error.empty()) {
    connection_.reset();
    WriterStats waiting = stats();
    logger()->warn("{}; retrying in {} ms, {} batches ({} rows) waiting", error, backoff_.count(),
                   waiting.queued_batches, waiting.queued_rows);
    set_error(std::move(error));
    back_off();
    return false;
  }

  // A COMMIT whose reply was lost may have succeeded, and the progress row shows whether it did.
  if (sequence > last_written_sequence()) last_written_.store(sequence, std::memory_order_release);
  reconnects_.fetch_add(1, std::memory_order_relaxed);
  connected_.store(true, std::memory_order_relaxed);
  backoff_ = options_.reconnect_backoff_min;
  logger()->info("reconnected to PostgreSQL at {}; written up to journal sequence {}",
                 options_.url.redacted(), last_written_sequence());
  return true;
}

std::string StoreWriter::write(const std::deque<Batch>& batches) {
  CopyData data = build_copy_data(batches);
  Connection& db = *connection_;

  Outcome begin = db.execute("BEGIN");
  if (!begin.ok()) return begin.error;

  struct Step {
    std::string_view copy_sql;
    const std::string& rows;
    std::string_view upsert_sql;
  };
  const Step steps[] = {
      {"COPY stage_instruments FROM STDIN", data.instruments, kUpsertInstruments},
      {"COPY stage_users FROM STDIN", data.users, kInsertUsers},
      {"COPY stage_orders FROM STDIN", data.orders, kUpsertOrders},
      {"COPY stage_trades FROM STDIN", data.trades, kInsertTrades},
      {"COPY stage_positions FROM STDIN", data.positions, kUpsertPositions},
  };
  for (const Step& step : steps) {
    if (step.rows.empty()) continue;
    Outcome copied = db.copy_in(step.copy_sql, step.rows);
    if (!copied.ok()) return copied.error;
    Outcome upserted = db.execute(step.upsert_sql);
    if (!upserted.ok()) return upserted.error;
  }

  Outcome progress =
      db.execute(kSetProgress, {options_.sink, std::to_string(batches.back().journal_sequence)});
  if (!progress.ok()) return progress.error;
  Outcome commit = db.execute("COMMIT");
  return commit.error;
}

void StoreWriter::run() {
  std::deque<Batch> batches;  // taken from the queue, not yet committed
  std::size_t batch_rows = 0;

  // Gives the rows of committed (or already written) batches back to the queue's bound.
  auto release = [&](std::size_t count, std::size_t rows) {
    {
      std::lock_guard lock(mutex_);
      batches_in_flight_ -= count;
      queued_rows_ -= rows;
    }
    space_ready_.notify_all();
  };

  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (batches.empty()) {
        // A batch after the durable limit waits, even at close, until the limit passes it.
        auto writable = [&] {
          return !queue_.empty() && queue_.front().journal_sequence <= durable_limit_;
        };
        work_ready_.wait(lock,
                         [&] { return stop_now_ || (closing_ && queue_.empty()) || writable(); });
        if (stop_now_ || !writable()) break;
        while (writable() && (batches.empty() || batch_rows + queue_.front().row_count() <=
                                                     options_.max_rows_per_transaction)) {
          batch_rows += queue_.front().row_count();
          batches.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      } else if (stop_now_) {
        break;
      }
    }

    if (!ensure_connected()) continue;

    // Batches at or below the progress row were committed by a transaction whose reply was lost.
    std::size_t skipped = 0;
    std::size_t skipped_rows = 0;
    while (!batches.empty() && batches.front().journal_sequence <= last_written_sequence()) {
      skipped_rows += batches.front().row_count();
      batches.pop_front();
      ++skipped;
    }
    if (skipped > 0) {
      batch_rows -= skipped_rows;
      release(skipped, skipped_rows);
      if (batches.empty()) continue;
    }

    std::string error = write(batches);
    if (!error.empty()) {
      failed_transactions_.fetch_add(1, std::memory_order_relaxed);
      if (!connection_->broken()) (void)connection_->execute("ROLLBACK");
      logger()->warn("writing journal sequences {}..{} failed: {}; retrying in {} ms",
                     batches.front().journal_sequence, batches.back().journal_sequence, error,
                     backoff_.count());
      set_error(std::move(error));
      back_off();
      continue;
    }

    last_written_.store(batches.back().journal_sequence, std::memory_order_release);
    rows_written_.fetch_add(batch_rows, std::memory_order_relaxed);
    transactions_.fetch_add(1, std::memory_order_relaxed);
    backoff_ = options_.reconnect_backoff_min;
    set_error({});
    release(batches.size(), batch_rows);
    batches.clear();
    batch_rows = 0;
  }

  connection_.reset();
  connected_.store(false, std::memory_order_relaxed);
}

}  // namespace hft::store
