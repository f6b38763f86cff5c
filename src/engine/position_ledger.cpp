#include "engine/position_ledger.h"

#include <algorithm>
#include <limits>

namespace hft::engine {
namespace {

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<std::int64_t>::max()
               : std::numeric_limits<std::int64_t>::min();
}

// open_cost x closing / open, rounded toward zero; |closing| <= |open|, so the result fits.
std::int64_t proportional_cost(std::int64_t open_cost, std::int64_t closing, std::int64_t open) {
  std::int64_t product = 0;
  if (!__builtin_mul_overflow(open_cost, closing, &product)) return product / open;
  return static_cast<std::int64_t>(static_cast<__int128>(open_cost) * closing / open);
}

}  // namespace

void apply_fill(PositionState& position, Side side, Price price, Quantity quantity) {
  const bool buy = side == Side::kBuy;
  const std::int64_t lots = quantity.lots;
  // The engine only trades quantities whose notional at this price fits in int64.
  const std::int64_t notional = price.ticks * lots;
  const std::int64_t cash_flow = buy ? -notional : notional;

  position.cash.units = saturating_add(position.cash.units, cash_flow);
  if (buy) {
    position.bought.lots = saturating_add(position.bought.lots, lots);
  } else {
    position.sold.lots = saturating_add(position.sold.lots, lots);
  }

  const std::int64_t net = position.net.lots;
  if (net == 0 || (net > 0) == buy) {
    position.open_cost.units = saturating_add(position.open_cost.units, -cash_flow);
    position.net.lots = saturating_add(net, buy ? lots : -lots);
    return;
  }

  // The fill reduces the position: close up to the open quantity first.
  const std::int64_t open = net > 0 ? net : -net;
  const std::int64_t closing = std::min(lots, open);
  const std::int64_t closing_notional = price.ticks * closing;
  const std::int64_t closing_flow = buy ? -closing_notional : closing_notional;
  const std::int64_t removed_cost =
      closing == open ? position.open_cost.units
                      : proportional_cost(position.open_cost.units, closing, open);
  const __int128 realized =
      static_cast<__int128>(position.realized_pnl.units) + closing_flow - removed_cost;
  position.realized_pnl.units = static_cast<std::int64_t>(
      std::clamp<__int128>(realized, std::numeric_limits<std::int64_t>::min(),
                           std::numeric_limits<std::int64_t>::max()));
  position.open_cost.units -= removed_cost;
  position.net.lots = net + (buy ? closing : -closing);

  // Whatever is left opens a position on the other side, at this fill's price.
  const std::int64_t opening = lots - closing;
  if (opening == 0) return;
  const std::int64_t opening_notional = price.ticks * opening;
  position.open_cost.units = buy ? opening_notional : -opening_notional;
  position.net.lots = buy ? opening : -opening;
}

std::uint32_t PositionLedger::find_or_add(UserId user, SymbolId symbol) {
  const Key key{user.value, symbol.value};
  const std::uint32_t found = index_.find(key);
  if (found != kNone) return found;

  const auto index = static_cast<std::uint32_t>(positions_.size());
  PositionState state;
  state.user = user;
  state.symbol = symbol;
  positions_.push_back(state);
  index_.insert(key, index);
  by_user_[user.value].push_back(index);
  return index;
}

std::uint32_t PositionLedger::find(UserId user, SymbolId symbol) const {
  return index_.find(Key{user.value, symbol.value});
}

const std::vector<std::uint32_t>& PositionLedger::user_positions(UserId user) const {
  static const std::vector<std::uint32_t> kEmpty;
  const auto it = by_user_.find(user.value);
  return it == by_user_.end() ? kEmpty : it->second;
}

}  // namespace hft::engine
