// StateChanges: what one engine batch changed (users, order records, book depth, positions), and
// its binary encoding for the `hft:events` Redis stream that carries it from the engine to the
// gateways. The engine encodes one StateChanges per durable batch; each gateway decodes it and
// applies it to its own OrderStore, UserDirectory and MarketView, so every GET endpoint works
// on any gateway.
//
// Encoding: little-endian, a format byte first, then four counted sections (users, orders,
// books, positions). Every record carries its full state, not a delta, so applying the same
// entry twice or skipping older entries leaves the newest state.
//
// Plain values and free functions: thread-safe. decode_state_changes() checks every length and
// returns false for a payload that does not parse.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gateway/market_view.h"
#include "gateway/order_store.h"
#include "gateway/user_directory.h"

namespace hft::gateway {

struct UserChange {
  engine::UserId id;
  std::string username;
  std::string email;
  std::string password_hash;
};

struct StateChanges {
  std::vector<UserChange> users;
  std::vector<OrderRecord> orders;
  std::vector<std::pair<std::string, std::shared_ptr<const BookSnapshot>>> books;
  std::vector<std::pair<engine::UserId, std::shared_ptr<const std::vector<PositionSnapshot>>>>
      positions;

  [[nodiscard]] bool empty() const {
    return users.empty() && orders.empty() && books.empty() && positions.empty();
  }
};

// Appends the encoding of `changes` to `out` (cleared first).
void encode_state_changes(const StateChanges& changes, std::string& out);

// Parses an encoding made by encode_state_changes(); false when it does not parse.
[[nodiscard]] bool decode_state_changes(std::string_view payload, StateChanges& changes);

// Counts of what apply_state_changes() did, for metrics.
struct AppliedCounts {
  std::uint64_t users = 0;
  std::uint64_t orders = 0;
  std::uint64_t max_order_id = 0;
};

// Writes the changes into a gateway's stores: unknown users are added, order records replace
// the stored ones (a new record also joins its user's order list), snapshots are swapped in.
AppliedCounts apply_state_changes(StateChanges&& changes, OrderStore& orders, UserDirectory& users,
                                  MarketView& market);

}  // namespace hft::gateway
