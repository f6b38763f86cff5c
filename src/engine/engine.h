// Engine: the matching engine. One order book per symbol with price-time priority, limit,
// market, IOC, FOK and post-only orders, cancel and amend by id, self-trade prevention, price
// bands, and per-user positions updated by every trade.
//
// Deterministic: the same sequence of calls emits the same events, so replaying a journal
// rebuilds the same books and positions. The engine reads no clock, does no I/O and never logs.
//
// Thread-safety: none. One thread (the batch worker) owns an Engine and makes every call on it.
// `EngineConfig::instrument_for` is const and may be called from any thread.
//
// Errors: a rejected request returns a `Status` with the reason and emits OrderRejected. It
// changes nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/decimal.h"
#include "engine/events.h"
#include "engine/types.h"

namespace hft::engine {

struct EngineConfig {
  // The rules for a symbol without an override; its `symbol` field is ignored.
  Instrument default_instrument;
  // Per-symbol rules, matched by symbol.
  std::vector<Instrument> instruments;
  // A new order for a further symbol is rejected with kTooManySymbols.
  std::size_t max_symbols = 1024;
  // Capacity reserved up front for resting orders; the engine grows past it when needed.
  std::size_t expected_resting_orders = 1 << 16;

  // The instrument that `symbol` uses (an override or the default with the symbol filled in).
  [[nodiscard]] Instrument instrument_for(const Symbol& symbol) const;
};

struct NewOrder {
  OrderId id;
  UserId user;
  std::string_view symbol;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  Price price;  // ignored for kMarket
  Quantity quantity;
  bool post_only = false;  // only valid with kLimit
  SelfTradePrevention self_trade_prevention = SelfTradePrevention::kCancelIncoming;
  std::int64_t timestamp_ns = 0;  // set by the caller; stored with a resting order
};

// One price level of a book.
struct DepthLevel {
  Price price;
  Quantity quantity;  // sum of the open quantity of its orders
  std::uint32_t orders = 0;

  friend bool operator==(const DepthLevel&, const DepthLevel&) = default;
};

// Aggregated depth, best price first on both sides.
struct BookDepth {
  std::vector<DepthLevel> bids;
  std::vector<DepthLevel> asks;
};

// A resting order.
struct OrderView {
  OrderId id;
  UserId user;
  SymbolId symbol_id;
  std::string_view symbol;
  Side side = Side::kBuy;
  Price price;
  Quantity quantity;  // filled + remaining
  Quantity filled;
  Quantity remaining;
  Notional filled_notional;
  OrderStatus status = OrderStatus::kOpen;
  bool post_only = false;
  std::int64_t timestamp_ns = 0;
};

// A user's position in one symbol. Cash is what the trades paid and received (negative after a
// buy). `open_cost` is the cost of the open quantity, positive for a long position and negative
// for a short one, so that realised_pnl == cash + open_cost at all times. Closing part of a
// position removes the proportional share of the cost, rounded toward zero. The rounding
// remainder stays in the open cost until the position is flat, so a round trip is exact.
struct Position {
  SymbolId symbol_id;
  std::string_view symbol;
  Quantity net;  // positive long, negative short
  Notional cash;
  Notional realized_pnl;
  Notional open_cost;
  Quantity bought;  // total quantity bought
  Quantity sold;    // total quantity sold
};

// Counters for metrics.
struct EngineStats {
  std::uint64_t orders_accepted = 0;
  std::uint64_t orders_rejected = 0;
  std::uint64_t trades = 0;
  std::uint64_t cancels = 0;
  std::uint64_t amends = 0;
  std::uint64_t resting_orders = 0;
  std::uint64_t symbols = 0;
};

class Engine {
 public:
  explicit Engine(EngineConfig config = {});
  ~Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Validates, matches and possibly rests a new order. A duplicate id (the id of a resting
  // order), an invalid symbol, price or quantity, a price outside the band, a crossing post-only
  // order and an unfillable FOK order are rejected before anything in the book changes.
  [[nodiscard]] Status submit(const NewOrder& order, EventSink& sink);

  // Cancels a resting order. kUnknownOrder when no resting order has the id (it may have filled),
  // kNotOwner when `requester` does not own it.
  [[nodiscard]] Status cancel(OrderId id, UserId requester, EventSink& sink);

  // Changes a resting order's price and open quantity. A smaller quantity at the same price keeps
  // its place in the queue, while a larger quantity or a new price moves it to the back. A new
  // price that crosses the book trades at once, except for a post-only order, which is rejected
  // and left unchanged.
  [[nodiscard]] Status amend(OrderId id, UserId requester, Price new_price, Quantity new_remaining,
                             EventSink& sink);

  // Looks up `id` and starts loading its resting order into the CPU cache without waiting for it.
  // A caller that knows its next requests (a batch) can call it a few requests ahead of a cancel
  // or amend of `id`, so that request waits less on memory. The lookup itself may wait for one
  // cache miss. Changes nothing and emits no event; an unknown id is ignored.
  void prefetch(OrderId id) const;

  // Aggregated depth of up to `max_levels` levels per side; empty for an unknown symbol.
  [[nodiscard]] BookDepth depth(std::string_view symbol, std::size_t max_levels) const;

  [[nodiscard]] std::optional<OrderView> order(OrderId id) const;
  [[nodiscard]] std::optional<Position> position(UserId user, std::string_view symbol) const;
  // Every symbol the user has traded, in the order of their first trade.
  [[nodiscard]] std::vector<Position> positions(UserId user) const;

  // The instrument of a symbol that has had an order; nullopt before that (see
  // `EngineConfig::instrument_for`).
  [[nodiscard]] std::optional<Instrument> instrument(std::string_view symbol) const;
  [[nodiscard]] std::optional<Price> last_trade_price(std::string_view symbol) const;

  [[nodiscard]] const EngineConfig& config() const;
  [[nodiscard]] EngineStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hft::engine
