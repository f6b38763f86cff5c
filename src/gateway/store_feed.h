// StoreFeed: collects what the journal records of one batch changed (registered users, orders,
// trades, positions, symbols seen for the first time) from the engine's events, and turns it into
// a store::Batch for the PostgreSQL sink.
//
// Orders and positions are collected as keys and read from the order store and the engine when
// the batch is built, so each row carries the state at the end of the batch. Trades and users
// are copied as they happen.
//
// Thread-safety: none. The batch worker owns the feed and calls it on the thread that applies
// commands (its own thread, or the starting thread during replay).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "gateway/commands.h"
#include "gateway/order_store.h"
#include "store/rows.h"

namespace hft::gateway {

class StoreFeed {
 public:
  // A registration; `created_unix_ns` becomes the user's created_at.
  void add_user(const Command& command, std::int64_t created_unix_ns);
  // An order whose state changed (accepted, filled, cancelled or rejected).
  void touch_order(engine::OrderId id) { order_ids_.push_back(id.value); }
  // A symbol that had an order; its instrument row is sent the first time this process sees it.
  void touch_symbol(engine::SymbolId id, std::string_view symbol);
  // A trade, executed at `executed_unix_ns`; also marks both users' positions in its symbol.
  void add_trade(const engine::Trade& trade, std::int64_t executed_unix_ns);

  // Rows collected since the last take(), counting each order and position key once per touch.
  [[nodiscard]] std::size_t pending_rows() const {
    return users_.size() + order_ids_.size() + trades_.size() + positions_.size() +
           new_symbols_.size();
  }

  // Builds the rows collected so far, tagged with `journal_sequence`, and starts a new batch.
  [[nodiscard]] store::Batch take(std::uint64_t journal_sequence, const OrderStore& orders,
                                  const engine::Engine& engine);

 private:
  std::vector<store::UserRow> users_;
  std::vector<std::uint64_t> order_ids_;
  std::vector<store::TradeRow> trades_;
  // (user, symbol) pairs; the symbol views point into the engine, which outlives the feed's use.
  std::vector<std::pair<std::uint64_t, std::string_view>> positions_;
  std::vector<std::string_view> new_symbols_;
  // Indexed by SymbolId: whether the instrument row was sent.
  std::vector<bool> symbols_sent_;
};

// The store's status for an API status; both list the same states in the same order.
[[nodiscard]] store::OrderState to_store_state(ApiOrderStatus status);

}  // namespace hft::gateway
