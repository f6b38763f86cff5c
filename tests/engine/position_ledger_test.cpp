#include "engine/position_ledger.h"

#include <gtest/gtest.h>

namespace hft::engine {
namespace {

void expect_realized_equals_cash_plus_open_cost(const PositionState& position) {
  EXPECT_EQ(position.realized_pnl.units, position.cash.units + position.open_cost.units);
}

TEST(PositionLedger, ShortPositionClosedAtProfit) {
  PositionState position;
  apply_fill(position, Side::kSell, Price{100}, Quantity{10});
  apply_fill(position, Side::kBuy, Price{90}, Quantity{4});

  EXPECT_EQ(position.net.lots, -6);
  EXPECT_EQ(position.realized_pnl.units, 40);
  EXPECT_EQ(position.open_cost.units, -600);
  expect_realized_equals_cash_plus_open_cost(position);
}

TEST(PositionLedger, FillThroughZeroOpensOtherSide) {
  PositionState position;
  apply_fill(position, Side::kBuy, Price{100}, Quantity{10});
  apply_fill(position, Side::kSell, Price{120}, Quantity{15});

  EXPECT_EQ(position.net.lots, -5);
  EXPECT_EQ(position.realized_pnl.units, 200);
  EXPECT_EQ(position.open_cost.units, -600);
  EXPECT_EQ(position.cash.units, 800);
  expect_realized_equals_cash_plus_open_cost(position);
}

TEST(PositionLedger, RoundingRemainderStaysUntilFlat) {
  PositionState position;
  // Three lots bought for 100 in total: the cost per lot is not a whole number.
  apply_fill(position, Side::kBuy, Price{33}, Quantity{1});
  apply_fill(position, Side::kBuy, Price{33}, Quantity{1});
  apply_fill(position, Side::kBuy, Price{34}, Quantity{1});
  apply_fill(position, Side::kSell, Price{40}, Quantity{1});
  expect_realized_equals_cash_plus_open_cost(position);
  apply_fill(position, Side::kSell, Price{40}, Quantity{2});

  EXPECT_EQ(position.net.lots, 0);
  EXPECT_EQ(position.open_cost.units, 0);
  EXPECT_EQ(position.realized_pnl.units, 20);
  EXPECT_EQ(position.cash.units, 20);
}

TEST(PositionLedger, FindOrAddKeepsOneIndexPerKey) {
  PositionLedger ledger;
  const std::uint32_t first = ledger.find_or_add(UserId{1}, SymbolId{0});
  const std::uint32_t other_symbol = ledger.find_or_add(UserId{1}, SymbolId{1});
  const std::uint32_t other_user = ledger.find_or_add(UserId{2}, SymbolId{0});

  EXPECT_EQ(ledger.find_or_add(UserId{1}, SymbolId{0}), first);
  EXPECT_NE(first, other_symbol);
  EXPECT_NE(first, other_user);
  EXPECT_EQ(ledger.find(UserId{3}, SymbolId{0}), PositionLedger::kNone);
  EXPECT_EQ(ledger.user_positions(UserId{1}), (std::vector<std::uint32_t>{first, other_symbol}));
}

}  // namespace
}  // namespace hft::engine
