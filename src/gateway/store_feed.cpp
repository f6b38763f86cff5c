#include "gateway/store_feed.h"

#include <algorithm>
#include <string>

namespace hft::gateway {

store::OrderState to_store_state(ApiOrderStatus status) {
  switch (status) {
    case ApiOrderStatus::kQueued:
      return store::OrderState::kQueued;
    case ApiOrderStatus::kOpen:
      return store::OrderState::kOpen;
    case ApiOrderStatus::kPartiallyFilled:
      return store::OrderState::kPartiallyFilled;
    case ApiOrderStatus::kFilled:
      return store::OrderState::kFilled;
    case ApiOrderStatus::kCancelled:
      return store::OrderState::kCancelled;
    case ApiOrderStatus::kRejected:
      return store::OrderState::kRejected;
  }
  return store::OrderState::kQueued;
}

void StoreFeed::add_user(const Command& command, std::int64_t created_unix_ns) {
  users_.push_back(store::UserRow{command.user, command.username, command.email, created_unix_ns});
}

void StoreFeed::touch_symbol(engine::SymbolId id, std::string_view symbol) {
  if (id.value < symbols_sent_.size() && symbols_sent_[id.value]) return;
  if (id.value >= symbols_sent_.size()) symbols_sent_.resize(id.value + 1, false);
  symbols_sent_[id.value] = true;
  new_symbols_.push_back(symbol);
}

void StoreFeed::add_trade(const engine::Trade& trade, std::int64_t executed_unix_ns) {
  store::TradeRow row;
  row.trade_id = trade.sequence;
  row.symbol = trade.symbol;
  row.price = trade.price;
  row.quantity = trade.quantity;
  row.maker_order = trade.maker_id;
  row.taker_order = trade.taker_id;
  row.maker_user = trade.maker_user;
  row.taker_user = trade.taker_user;
  row.aggressor = trade.aggressor;
  row.executed_unix_ns = executed_unix_ns;
  trades_.push_back(std::move(row));
  positions_.emplace_back(trade.maker_user.value, trade.symbol);
  positions_.emplace_back(trade.taker_user.value, trade.symbol);
}

store::Batch StoreFeed::take(std::uint64_t journal_sequence, const OrderStore& orders,
                             const engine::Engine& engine) {
  store::Batch batch;
  batch.journal_sequence = journal_sequence;
  batch.users = std::move(users_);
  batch.trades = std::move(trades_);
  users_.clear();
  trades_.clear();

  for (std::string_view symbol : new_symbols_) {
    std::optional<engine::Instrument> instrument = engine.instrument(symbol);
    if (!instrument) continue;
    batch.instruments.push_back(
        store::InstrumentRow{std::string(symbol), instrument->tick_size, instrument->lot_size});
  }
  new_symbols_.clear();

  // An order changes several times within a batch (accepted, then filled); one row is enough.
  std::sort(order_ids_.begin(), order_ids_.end());
  order_ids_.erase(std::unique(order_ids_.begin(), order_ids_.end()), order_ids_.end());
  batch.orders.reserve(order_ids_.size());
  for (std::uint64_t id : order_ids_) {
    std::optional<OrderRecord> record = orders.find(engine::OrderId{id});
    if (!record) continue;
    store::OrderRow row;
    row.order = record->id;
    row.user = record->user;
    row.symbol = std::string(record->request.symbol.view());
    row.side = record->request.side;
    row.type = record->request.type;
    row.price = record->request.price;
    row.quantity = record->request.quantity;
    row.filled = record->filled;
    row.filled_notional = record->filled_notional;
    row.state = to_store_state(record->status);
    row.client_order_id = std::string(record->request.client_order_id.view());
    if (record->status == ApiOrderStatus::kRejected) row.reject_reason = record->reject_reason;
    row.created_unix_ns = record->created_unix_ns;
    batch.orders.push_back(std::move(row));
  }
  order_ids_.clear();

  std::sort(positions_.begin(), positions_.end());
  positions_.erase(std::unique(positions_.begin(), positions_.end()), positions_.end());
  for (const auto& [user, symbol] : positions_) {
    std::optional<engine::Position> position = engine.position(engine::UserId{user}, symbol);
    if (!position) continue;
    store::PositionRow row;
    row.user = engine::UserId{user};
    row.symbol = std::string(symbol);
    row.net = position->net;
    row.cash = position->cash;
    row.realized_pnl = position->realized_pnl;
    row.open_cost = position->open_cost;
    row.bought = position->bought;
    row.sold = position->sold;
    batch.positions.push_back(std::move(row));
  }
  positions_.clear();
  return batch;
}

}  // namespace hft::gateway
