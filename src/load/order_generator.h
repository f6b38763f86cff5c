// OrderGenerator: the orders a load client sends, as JSON bodies for POST /api/orders and
// /api/orders/batch, and the ids to cancel with DELETE /api/orders/{id}.
//
// Two profiles. `seed` repeats one order (AAPL, MARKET, quantity 100, price 150.00) with BUY and
// SELL alternating. `realistic` sends LIMIT orders around a middle price per symbol that moves
// by a random walk: most rest passively away from it, a share crosses it, and a share of the
// requests cancels an earlier acknowledged order. Prices are whole ticks of 0.01 and quantities
// whole lots of 1. The same seed and client id give the same order sequence; which ids get
// cancelled also depends on the server's replies.
//
// Not thread-safe: the client's one I/O thread owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "load/load_options.h"

namespace hft::load {

class OrderGenerator {
 public:
  OrderGenerator(OrderProfile profile, std::vector<std::string> symbols, std::uint64_t seed,
                 std::string_view client_id);

  // Appends one order object to `out`.
  void append_order(std::string& out);

  // Appends {"orders":[...]} with `count` orders to `out`.
  void append_batch(std::string& out, int count);

  // Draws whether an order request is followed by a cancel; always false for `seed`.
  [[nodiscard]] bool draw_cancel();

  // Removes and returns a random acknowledged order id, if one is known.
  [[nodiscard]] std::optional<std::uint64_t> take_cancel_id();

  // Stores an acknowledged order id as a cancel candidate; the oldest is dropped when full.
  void remember_acknowledged(std::uint64_t order_id);

  // Whether replies must be read for order ids (only when cancels are sent).
  [[nodiscard]] bool needs_order_ids() const { return profile_ == OrderProfile::kRealistic; }

 private:
  struct SymbolState {
    std::string name;
    std::int64_t middle_ticks;
  };

  std::uint64_t draw_below(std::uint64_t bound) { return rng_() % bound; }
  void append_seed_order(std::string& out);
  void append_realistic_order(std::string& out);

  OrderProfile profile_;
  std::vector<SymbolState> symbols_;
  std::mt19937_64 rng_;
  std::string client_order_prefix_;
  std::uint64_t sequence_ = 0;
  std::vector<std::uint64_t> acknowledged_ids_;
  std::size_t next_overwrite_ = 0;
};

}  // namespace hft::load
