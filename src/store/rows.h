// The rows the PostgreSQL sink writes, and the batch that carries them from the engine's thread
// to the store's writer thread.
//
// Prices and quantities stay in the engine's exact integer units: a price in ticks, a quantity
// in lots, a notional (price x quantity, cash, P&L) in tick x lot units. Each table stores those
// BIGINTs, and the `instruments` table stores each symbol's tick and lot size as NUMERIC, so
// price = price_ticks * tick_size exactly; the views orders_decimal, trades_decimal and
// positions_decimal apply the scale. Nothing is rounded on the way.
//
// Plain values: safe to move between threads, one owner at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/decimal.h"
#include "engine/types.h"

namespace hft::store {

// The status an order has in the API: the engine's states plus QUEUED.
enum class OrderState : std::uint8_t {
  kQueued,
  kOpen,
  kPartiallyFilled,
  kFilled,
  kCancelled,
  kRejected,
};

// "QUEUED", "OPEN", "PARTIALLY_FILLED", "FILLED", "CANCELLED" or "REJECTED".
[[nodiscard]] std::string_view to_string(OrderState state);

struct InstrumentRow {
  std::string symbol;
  engine::Decimal tick_size;
  engine::Decimal lot_size;
};

struct UserRow {
  engine::UserId user;
  std::string username;
  std::string email;
  std::int64_t created_unix_ns = 0;
};

// The state of an order after a change. The writer keeps only the last row of an order within
// what it writes at once, and a row never replaces one from a later journal sequence.
struct OrderRow {
  engine::OrderId order;
  engine::UserId user;
  std::string symbol;
  engine::Side side = engine::Side::kBuy;
  engine::OrderType type = engine::OrderType::kLimit;
  engine::Price price;  // zero for a market order without a price
  engine::Quantity quantity;
  engine::Quantity filled;
  engine::Notional filled_notional;
  OrderState state = OrderState::kQueued;
  std::string client_order_id;  // empty: none
  std::optional<engine::RejectReason> reject_reason;
  std::int64_t created_unix_ns = 0;
};

struct TradeRow {
  std::uint64_t trade_id = 0;  // the engine's trade sequence, unique per engine
  std::string symbol;
  engine::Price price;
  engine::Quantity quantity;
  engine::OrderId maker_order;
  engine::OrderId taker_order;
  engine::UserId maker_user;
  engine::UserId taker_user;
  engine::Side aggressor = engine::Side::kBuy;
  std::int64_t executed_unix_ns = 0;
};

// A user's position in one symbol after a trade, as engine::Position has it.
struct PositionRow {
  engine::UserId user;
  std::string symbol;
  engine::Quantity net;  // positive long, negative short
  engine::Notional cash;
  engine::Notional realized_pnl;
  engine::Notional open_cost;
  engine::Quantity bought;
  engine::Quantity sold;
};

// The rows produced by the journal records up to `journal_sequence`. Batches reach the writer in
// increasing sequence order; a batch may be empty and then only advances the progress.
struct Batch {
  std::uint64_t journal_sequence = 0;
  std::vector<InstrumentRow> instruments;
  std::vector<UserRow> users;
  std::vector<OrderRow> orders;
  std::vector<TradeRow> trades;
  std::vector<PositionRow> positions;

  [[nodiscard]] std::size_t row_count() const {
    return instruments.size() + users.size() + orders.size() + trades.size() + positions.size();
  }
};

}  // namespace hft::store
