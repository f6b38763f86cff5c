// PositionLedger: every user's position per symbol, updated by each fill. Internal to the engine;
// callers read positions through `Engine::position` and `Engine::positions`.
//
// Not thread-safe: owned by the engine and used on its thread. Entries are never removed, so an
// index returned by `find_or_add` stays valid for the ledger's lifetime.
#pragma once

#include <cstdint>
#include <limits>
#include <unordered_map>
#include <vector>

#include "engine/flat_index_map.h"
#include "engine/types.h"

namespace hft::engine {

// One user's position in one symbol; field meanings as in `Position` (engine.h).
struct PositionState {
  UserId user;
  SymbolId symbol;
  Quantity net;
  Notional cash;
  Notional realized_pnl;
  Notional open_cost;
  Quantity bought;
  Quantity sold;
};

// Applies one fill of `quantity` at `price` on `side` to a position. Cash moves by the fill's
// notional. A fill in the direction of the position, or from flat, adds to the open cost. A fill
// against the position first closes up to the open quantity and moves the closed share of the open
// cost into realised P&L. Whatever remains opens a position in the new direction.
// NOTE: sums saturate at the int64 limits instead of wrapping; at tick 0.01 and lot 0.01 that is
// about 9.2e14 in currency units per user and symbol.
void apply_fill(PositionState& position, Side side, Price price, Quantity quantity);

class PositionLedger {
 public:
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

  // The index of the user's position in `symbol`, creating an empty one on first use.
  [[nodiscard]] std::uint32_t find_or_add(UserId user, SymbolId symbol);
  // The index, or kNone when the user has no position in the symbol.
  [[nodiscard]] std::uint32_t find(UserId user, SymbolId symbol) const;

  [[nodiscard]] PositionState& at(std::uint32_t index) { return positions_[index]; }
  [[nodiscard]] const PositionState& at(std::uint32_t index) const { return positions_[index]; }

  // Indices of the user's positions in the order they were created; empty for an unknown user.
  [[nodiscard]] const std::vector<std::uint32_t>& user_positions(UserId user) const;

 private:
  struct Key {
    std::uint64_t user = 0;
    std::uint32_t symbol = 0;

    friend bool operator==(const Key&, const Key&) = default;
  };

  struct KeyHash {
    std::uint64_t operator()(const Key& key) const {
      return mix_hash(mix_hash(key.user) + key.symbol);
    }
  };

  std::vector<PositionState> positions_;
  FlatIndexMap<Key, KeyHash> index_;
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> by_user_;
};

}  // namespace hft::engine
