#include "engine/engine.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine_test_helpers.h"

namespace hft::engine {
namespace {

using testing::describe_all;
using testing::events_of;
using testing::kSymbol;
using testing::make_order;

// Runs each case once with a buying taker against resting sells and once mirrored. Prices are
// written relative to 100 from the taker's point of view: worse(1) costs a buyer one tick more
// and pays a seller one tick less.
class EngineSides : public ::testing::TestWithParam<Side> {
 protected:
  Side taker() const { return GetParam(); }
  Side maker() const { return opposite(GetParam()); }
  std::int64_t worse(std::int64_t ticks) const {
    return taker() == Side::kBuy ? 100 + ticks : 100 - ticks;
  }

  Status submit(const NewOrder& order) { return engine_.submit(order, log_); }

  const std::vector<DepthLevel>& maker_levels(const BookDepth& depth) const {
    return maker() == Side::kBuy ? depth.bids : depth.asks;
  }
  const std::vector<DepthLevel>& taker_levels(const BookDepth& depth) const {
    return taker() == Side::kBuy ? depth.bids : depth.asks;
  }

  Engine engine_;
  EventLog log_;
};

INSTANTIATE_TEST_SUITE_P(Engine, EngineSides, ::testing::Values(Side::kBuy, Side::kSell),
                         [](const ::testing::TestParamInfo<Side>& info) {
                           return info.param == Side::kBuy ? "BuyTaker" : "SellTaker";
                         });

TEST_P(EngineSides, CrossingOrderTradesAtBestPrice) {
  ASSERT_TRUE(submit(make_order(1, maker(), worse(1), 10)).ok());
  ASSERT_TRUE(submit(make_order(2, maker(), worse(0), 10)).ok());
  log_.clear();

  ASSERT_TRUE(submit(make_order(3, taker(), worse(1), 10)).ok());

  const std::vector<Trade> trades = events_of<Trade>(log_);
  ASSERT_EQ(trades.size(), 1u);
  EXPECT_EQ(trades[0].price.ticks, 100);
  EXPECT_EQ(trades[0].quantity.lots, 10);
  EXPECT_EQ(trades[0].maker_id.value, 2u);
  EXPECT_EQ(trades[0].taker_id.value, 3u);
  EXPECT_EQ(trades[0].aggressor, taker());
  const BookDepth depth = engine_.depth(kSymbol, 10);
  ASSERT_EQ(maker_levels(depth).size(), 1u);
  EXPECT_EQ(maker_levels(depth)[0].price.ticks, worse(1));
  EXPECT_TRUE(taker_levels(depth).empty());
  EXPECT_EQ(events_of<OrderUpdate>(log_).back().status, OrderStatus::kFilled);
}

TEST_P(EngineSides, PartialFillsFollowTimePriority) {
  ASSERT_TRUE(submit(make_order(1, maker(), 100, 10)).ok());
  ASSERT_TRUE(submit(make_order(2, maker(), 100, 10)).ok());
  log_.clear();

  ASSERT_TRUE(submit(make_order(3, taker(), 100, 4)).ok());
  ASSERT_TRUE(submit(make_order(4, taker(), 100, 8)).ok());

  const std::vector<Trade> trades = events_of<Trade>(log_);
  ASSERT_EQ(trades.size(), 3u);
  EXPECT_EQ(trades[0].maker_id.value, 1u);
  EXPECT_EQ(trades[0].quantity.lots, 4);
  EXPECT_EQ(trades[1].maker_id.value, 1u);
  EXPECT_EQ(trades[1].quantity.lots, 6);
  EXPECT_EQ(trades[2].maker_id.value, 2u);
  EXPECT_EQ(trades[2].quantity.lots, 2);
  EXPECT_FALSE(engine_.order(OrderId{1}).has_value());
  const std::optional<OrderView> second = engine_.order(OrderId{2});
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->remaining.lots, 8);
  EXPECT_EQ(second->filled.lots, 2);
  EXPECT_EQ(second->status, OrderStatus::kPartiallyFilled);
  const BookDepth depth = engine_.depth(kSymbol, 10);
  ASSERT_EQ(maker_levels(depth).size(), 1u);
  EXPECT_EQ(maker_levels(depth)[0].quantity.lots, 8);
  EXPECT_EQ(maker_levels(depth)[0].orders, 1u);
}

TEST_P(EngineSides, IocFillsWhatRestsAndCancelsTheRest) {
  ASSERT_TRUE(submit(make_order(1, maker(), 100, 5)).ok());
  log_.clear();

  ASSERT_TRUE(submit(make_order(2, taker(), 100, 10, 0, OrderType::kIoc)).ok());

  const std::vector<Trade> trades = events_of<Trade>(log_);
  ASSERT_EQ(trades.size(), 1u);
  EXPECT_EQ(trades[0].quantity.lots, 5);
  const std::vector<OrderCancelled> cancels = events_of<OrderCancelled>(log_);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].id.value, 2u);
  EXPECT_EQ(cancels[0].cancelled_quantity.lots, 5);
  EXPECT_EQ(cancels[0].reason, CancelReason::kUnfilledRemainder);
  const OrderUpdate last = events_of<OrderUpdate>(log_).back();
  EXPECT_EQ(last.status, OrderStatus::kCancelled);
  EXPECT_EQ(last.filled.lots, 5);
  const BookDepth depth = engine_.depth(kSymbol, 10);
  EXPECT_TRUE(depth.bids.empty());
  EXPECT_TRUE(depth.asks.empty());
}

TEST_P(EngineSides, CancelOfFilledOrderIsRejected) {
  const NewOrder resting = make_order(1, maker(), 100, 5);
  ASSERT_TRUE(submit(resting).ok());
  ASSERT_TRUE(submit(make_order(2, taker(), 100, 5)).ok());
  log_.clear();

  const Status status = engine_.cancel(OrderId{1}, resting.user, log_);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.reason(), RejectReason::kUnknownOrder);
  const std::vector<OrderRejected> rejects = events_of<OrderRejected>(log_);
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].request, RequestKind::kCancel);
  // Matching goes on as before.
  ASSERT_TRUE(submit(make_order(3, maker(), 100, 5)).ok());
  ASSERT_TRUE(submit(make_order(4, taker(), 100, 5)).ok());
  EXPECT_EQ(events_of<Trade>(log_).size(), 1u);
}

TEST_P(EngineSides, DuplicateIdRejectedBeforeMatching) {
  ASSERT_TRUE(submit(make_order(7, maker(), 100, 10, 1)).ok());
  const BookDepth before = engine_.depth(kSymbol, 10);
  log_.clear();

  const Status status = submit(make_order(7, taker(), 100, 10, 2));

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(to_string(status.reason()), "duplicate_order_id");
  EXPECT_TRUE(events_of<Trade>(log_).empty());
  EXPECT_TRUE(events_of<OrderAccepted>(log_).empty());
  EXPECT_EQ(events_of<OrderRejected>(log_).size(), 1u);
  EXPECT_EQ(maker_levels(engine_.depth(kSymbol, 10)), maker_levels(before));
  const std::optional<OrderView> original = engine_.order(OrderId{7});
  ASSERT_TRUE(original.has_value());
  EXPECT_EQ(original->user.value, 1u);
}

TEST_P(EngineSides, MarketOrderSweepsLevelsAndNeverRests) {
  ASSERT_TRUE(submit(make_order(1, maker(), worse(0), 5)).ok());
  ASSERT_TRUE(submit(make_order(2, maker(), worse(3), 5)).ok());
  log_.clear();

  ASSERT_TRUE(submit(make_order(3, taker(), 0, 20, 0, OrderType::kMarket)).ok());

  const std::vector<Trade> trades = events_of<Trade>(log_);
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[0].price.ticks, worse(0));
  EXPECT_EQ(trades[1].price.ticks, worse(3));
  const std::vector<OrderCancelled> cancels = events_of<OrderCancelled>(log_);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].cancelled_quantity.lots, 10);
  const BookDepth depth = engine_.depth(kSymbol, 10);
  EXPECT_TRUE(depth.bids.empty());
  EXPECT_TRUE(depth.asks.empty());
}

TEST_P(EngineSides, MarketOrderOnEmptyBookIsCancelled) {
  ASSERT_TRUE(submit(make_order(1, taker(), 0, 10, 0, OrderType::kMarket)).ok());

  EXPECT_EQ(events_of<OrderAccepted>(log_).size(), 1u);
  EXPECT_TRUE(events_of<Trade>(log_).empty());
  const std::vector<OrderCancelled> cancels = events_of<OrderCancelled>(log_);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].cancelled_quantity.lots, 10);
  const OrderUpdate last = events_of<OrderUpdate>(log_).back();
  EXPECT_EQ(last.status, OrderStatus::kCancelled);
  EXPECT_EQ(last.filled.lots, 0);
  EXPECT_FALSE(engine_.order(OrderId{1}).has_value());
}

TEST_P(EngineSides, FokThatCannotFillLeavesBookUnchanged) {
  ASSERT_TRUE(submit(make_order(1, maker(), worse(0), 5)).ok());
  ASSERT_TRUE(submit(make_order(2, maker(), worse(1), 3)).ok());
  ASSERT_TRUE(submit(make_order(3, maker(), worse(2), 50)).ok());
  const BookDepth before = engine_.depth(kSymbol, 10);
  log_.clear();

  const Status status = submit(make_order(4, taker(), worse(1), 10, 0, OrderType::kFok));

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.reason(), RejectReason::kFokNotFillable);
  EXPECT_EQ(maker_levels(engine_.depth(kSymbol, 10)), maker_levels(before));
  EXPECT_EQ(log_.events().size(), 1u);

  ASSERT_TRUE(submit(make_order(5, taker(), worse(1), 8, 0, OrderType::kFok)).ok());
  EXPECT_EQ(events_of<Trade>(log_).size(), 2u);
  EXPECT_EQ(events_of<OrderUpdate>(log_).back().status, OrderStatus::kFilled);
}

TEST_P(EngineSides, PostOnlyThatWouldCrossIsRejected) {
  ASSERT_TRUE(submit(make_order(1, maker(), 100, 5)).ok());

  NewOrder crossing = make_order(2, taker(), 100, 5);
  crossing.post_only = true;
  const Status crossed = submit(crossing);
  NewOrder passive = make_order(3, taker(), worse(-1), 5);
  passive.post_only = true;
  const Status rested = submit(passive);
  NewOrder immediate = make_order(4, taker(), worse(-1), 5, 0, OrderType::kIoc);
  immediate.post_only = true;
  const Status not_limit = submit(immediate);

  ASSERT_FALSE(crossed.ok());
  EXPECT_EQ(crossed.reason(), RejectReason::kWouldTakeLiquidity);
  EXPECT_TRUE(rested.ok());
  ASSERT_FALSE(not_limit.ok());
  EXPECT_EQ(not_limit.reason(), RejectReason::kPostOnlyRequiresLimit);
  EXPECT_TRUE(events_of<Trade>(log_).empty());
  ASSERT_TRUE(engine_.order(OrderId{3}).has_value());
  EXPECT_TRUE(engine_.order(OrderId{3})->post_only);
}

TEST_P(EngineSides, AmendReducingQuantityKeepsPriority) {
  const NewOrder first = make_order(1, maker(), 100, 10);
  ASSERT_TRUE(submit(first).ok());
  ASSERT_TRUE(submit(make_order(2, maker(), 100, 10)).ok());

  ASSERT_TRUE(engine_.amend(OrderId{1}, first.user, Price{100}, Quantity{5}, log_).ok());
  log_.clear();
  ASSERT_TRUE(submit(make_order(3, taker(), 100, 5)).ok());

  const std::vector<Trade> trades = events_of<Trade>(log_);
  ASSERT_EQ(trades.size(), 1u);
  EXPECT_EQ(trades[0].maker_id.value, 1u);
  EXPECT_EQ(maker_levels(engine_.depth(kSymbol, 1))[0].quantity.lots, 10);
}

TEST_P(EngineSides, AmendIncreasingQuantityLosesPriority) {
  const NewOrder first = make_order(1, maker(), 100, 10);
  ASSERT_TRUE(submit(first).ok());
  ASSERT_TRUE(submit(make_order(2, maker(), 100, 10)).ok());

  ASSERT_TRUE(engine_.amend(OrderId{1}, first.user, Price{100}, Quantity{15}, log_).ok());
  EXPECT_FALSE(events_of<OrderAmended>(log_).back().priority_kept);
  log_.clear();
  ASSERT_TRUE(submit(make_order(3, taker(), 100, 5)).ok());

  const std::vector<Trade> trades = events_of<Trade>(log_);
  ASSERT_EQ(trades.size(), 1u);
  EXPECT_EQ(trades[0].maker_id.value, 2u);
  EXPECT_EQ(maker_levels(engine_.depth(kSymbol, 1))[0].quantity.lots, 20);
}

TEST_P(EngineSides, AmendOfPriceLosesPriority) {
  const NewOrder first = make_order(1, maker(), 100, 10);
  ASSERT_TRUE(submit(first).ok());
  ASSERT_TRUE(submit(make_order(2, maker(), 100, 10)).ok());

  ASSERT_TRUE(engine_.amend(OrderId{1}, first.user, Price{worse(1)}, Quantity{10}, log_).ok());
  ASSERT_TRUE(engine_.amend(OrderId{1}, first.user, Price{100}, Quantity{10}, log_).ok());
  log_.clear();
  ASSERT_TRUE(submit(make_order(3, taker(), 100, 5)).ok());

  const std::vector<Trade> trades = events_of<Trade>(log_);
  ASSERT_EQ(trades.size(), 1u);
  EXPECT_EQ(trades[0].maker_id.value, 2u);
}

TEST_P(EngineSides, AmendToCrossingPriceTrades) {
  const NewOrder passive = make_order(1, taker(), worse(-2), 10);
  ASSERT_TRUE(submit(passive).ok());
  ASSERT_TRUE(submit(make_order(2, maker(), 100, 4)).ok());
  log_.clear();

  ASSERT_TRUE(engine_.amend(OrderId{1}, passive.user, Price{100}, Quantity{10}, log_).ok());

  const std::vector<Trade> trades = events_of<Trade>(log_);
  ASSERT_EQ(trades.size(), 1u);
  EXPECT_EQ(trades[0].taker_id.value, 1u);
  EXPECT_EQ(trades[0].quantity.lots, 4);
  const std::optional<OrderView> amended = engine_.order(OrderId{1});
  ASSERT_TRUE(amended.has_value());
  EXPECT_EQ(amended->price.ticks, 100);
  EXPECT_EQ(amended->remaining.lots, 6);
  EXPECT_EQ(amended->filled.lots, 4);
  EXPECT_EQ(amended->status, OrderStatus::kPartiallyFilled);
}

TEST_P(EngineSides, CrossingAmendThatFillsLeavesBook) {
  const NewOrder passive = make_order(1, taker(), worse(-2), 4);
  ASSERT_TRUE(submit(passive).ok());
  ASSERT_TRUE(submit(make_order(2, maker(), 100, 10)).ok());
  log_.clear();

  ASSERT_TRUE(engine_.amend(OrderId{1}, passive.user, Price{worse(1)}, Quantity{4}, log_).ok());

  const std::vector<Trade> trades = events_of<Trade>(log_);
  ASSERT_EQ(trades.size(), 1u);
  EXPECT_EQ(trades[0].price.ticks, 100);
  EXPECT_EQ(events_of<OrderUpdate>(log_).back().status, OrderStatus::kFilled);
  EXPECT_FALSE(engine_.order(OrderId{1}).has_value());
  EXPECT_TRUE(taker_levels(engine_.depth(kSymbol, 10)).empty());
  EXPECT_EQ(maker_levels(engine_.depth(kSymbol, 10))[0].quantity.lots, 6);
  EXPECT_EQ(engine_.stats().resting_orders, 1u);
}

TEST_P(EngineSides, CrossingAmendStoppedBySelfTrade) {
  const NewOrder passive = make_order(1, taker(), worse(-2), 4, 5);
  ASSERT_TRUE(submit(passive).ok());
  ASSERT_TRUE(submit(make_order(2, maker(), 100, 10, 5)).ok());
  log_.clear();

  ASSERT_TRUE(engine_.amend(OrderId{1}, passive.user, Price{100}, Quantity{4}, log_).ok());

  EXPECT_TRUE(events_of<Trade>(log_).empty());
  const std::vector<OrderCancelled> cancels = events_of<OrderCancelled>(log_);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].id.value, 1u);
  EXPECT_EQ(cancels[0].reason, CancelReason::kSelfTradePrevention);
  EXPECT_FALSE(engine_.order(OrderId{1}).has_value());
  EXPECT_TRUE(engine_.order(OrderId{2}).has_value());
}

TEST_P(EngineSides, IdOfFinishedOrderIsAcceptedAgain) {
  ASSERT_TRUE(submit(make_order(1, maker(), 100, 5)).ok());
  ASSERT_TRUE(submit(make_order(2, taker(), 100, 5)).ok());

  // Only resting ids are checked for duplicates; callers keep ids unique over time.
  EXPECT_TRUE(submit(make_order(1, maker(), 100, 5)).ok());
}

TEST_P(EngineSides, PostOnlyCrossingAmendIsRejected) {
  NewOrder passive = make_order(1, taker(), worse(-2), 10);
  passive.post_only = true;
  ASSERT_TRUE(submit(passive).ok());
  ASSERT_TRUE(submit(make_order(2, maker(), 100, 4)).ok());

  const Status status = engine_.amend(OrderId{1}, passive.user, Price{100}, Quantity{10}, log_);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.reason(), RejectReason::kWouldTakeLiquidity);
  ASSERT_TRUE(engine_.order(OrderId{1}).has_value());
  EXPECT_EQ(engine_.order(OrderId{1})->price.ticks, worse(-2));
  EXPECT_TRUE(events_of<Trade>(log_).empty());
}

TEST_P(EngineSides, CancelRemovesOnlyTheOwnersOrder) {
  const NewOrder resting = make_order(1, maker(), 100, 10);
  ASSERT_TRUE(submit(resting).ok());

  const Status stranger = engine_.cancel(OrderId{1}, UserId{999}, log_);
  const Status owner = engine_.cancel(OrderId{1}, resting.user, log_);

  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.reason(), RejectReason::kNotOwner);
  ASSERT_TRUE(owner.ok());
  const std::vector<OrderCancelled> cancels = events_of<OrderCancelled>(log_);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].cancelled_quantity.lots, 10);
  EXPECT_EQ(cancels[0].reason, CancelReason::kRequested);
  EXPECT_EQ(events_of<OrderUpdate>(log_).back().status, OrderStatus::kCancelled);
  EXPECT_TRUE(maker_levels(engine_.depth(kSymbol, 10)).empty());
}

// Self-trade prevention: user 1 rests #1 at the front of the level, user 2 rests #2 behind it,
// and user 1 sends a crossing buy #3 for 10.
struct SelfTradeCase {
  SelfTradePrevention mode;
  std::size_t trades;
  bool own_order_rests;
  OrderStatus incoming_status;
  std::int64_t incoming_resting_lots;
};

class SelfTradePreventionModes : public ::testing::TestWithParam<SelfTradeCase> {};

TEST_P(SelfTradePreventionModes, AppliesIncomingOrdersChoice) {
  const SelfTradeCase& c = GetParam();
  Engine engine;
  EventLog log;
  ASSERT_TRUE(engine.submit(make_order(1, Side::kSell, 100, 5, 1), log).ok());
  ASSERT_TRUE(engine.submit(make_order(2, Side::kSell, 100, 5, 2), log).ok());
  log.clear();

  NewOrder incoming = make_order(3, Side::kBuy, 100, 10, 1);
  incoming.self_trade_prevention = c.mode;
  ASSERT_TRUE(engine.submit(incoming, log).ok());

  EXPECT_EQ(events_of<Trade>(log).size(), c.trades);
  EXPECT_EQ(engine.order(OrderId{1}).has_value(), c.own_order_rests);
  EXPECT_EQ(events_of<OrderUpdate>(log).back().status, c.incoming_status);
  const std::optional<OrderView> incoming_view = engine.order(OrderId{3});
  EXPECT_EQ(incoming_view ? incoming_view->remaining.lots : 0, c.incoming_resting_lots);
  for (const OrderCancelled& cancel : events_of<OrderCancelled>(log)) {
    EXPECT_EQ(cancel.reason, CancelReason::kSelfTradePrevention);
  }
  const std::vector<Trade> trades = events_of<Trade>(log);
  for (const Trade& trade : trades) EXPECT_NE(trade.maker_user, trade.taker_user);
}

INSTANTIATE_TEST_SUITE_P(Engine, SelfTradePreventionModes,
                         ::testing::Values(SelfTradeCase{SelfTradePrevention::kCancelIncoming, 0,
                                                         true, OrderStatus::kCancelled, 0},
                                           SelfTradeCase{SelfTradePrevention::kCancelResting, 1,
                                                         false, OrderStatus::kPartiallyFilled, 5},
                                           SelfTradeCase{SelfTradePrevention::kCancelBoth, 0, false,
                                                         OrderStatus::kCancelled, 0}));

TEST(Engine, FokRespectsSelfTradePrevention) {
  Engine engine;
  EventLog log;
  ASSERT_TRUE(engine.submit(make_order(1, Side::kSell, 100, 5, 1), log).ok());
  ASSERT_TRUE(engine.submit(make_order(2, Side::kSell, 100, 5, 2), log).ok());

  NewOrder blocked = make_order(3, Side::kBuy, 100, 5, 1, OrderType::kFok);
  const Status stopped_by_own_order = engine.submit(blocked, log);
  NewOrder skipping = make_order(4, Side::kBuy, 100, 5, 1, OrderType::kFok);
  skipping.self_trade_prevention = SelfTradePrevention::kCancelResting;
  const Status skips_own_order = engine.submit(skipping, log);

  ASSERT_FALSE(stopped_by_own_order.ok());
  EXPECT_EQ(stopped_by_own_order.reason(), RejectReason::kFokNotFillable);
  EXPECT_TRUE(skips_own_order.ok());
  EXPECT_EQ(events_of<Trade>(log).size(), 1u);
}

EngineConfig band_config(std::uint32_t band_percent) {
  EngineConfig config;
  Result<Instrument> instrument = Instrument::make(kSymbol, "0.01", "1", band_percent);
  EXPECT_TRUE(instrument.ok());
  config.instruments.push_back(instrument.value());
  return config;
}

TEST(Engine, PriceBandRejectsOrdersFarFromLastTrade) {
  Engine engine(band_config(10));
  EventLog log;
  // Before any trade there is no reference price, so any price is accepted.
  ASSERT_TRUE(engine.submit(make_order(1, Side::kSell, 100, 1), log).ok());
  ASSERT_TRUE(engine.submit(make_order(2, Side::kSell, 500, 1), log).ok());
  ASSERT_TRUE(engine.submit(make_order(3, Side::kBuy, 100, 1), log).ok());
  ASSERT_EQ(engine.last_trade_price(kSymbol), Price{100});

  EXPECT_EQ(engine.submit(make_order(4, Side::kBuy, 111, 1), log).reason(),
            RejectReason::kPriceBand);
  EXPECT_EQ(engine.submit(make_order(5, Side::kSell, 89, 1), log).reason(),
            RejectReason::kPriceBand);
  EXPECT_TRUE(engine.submit(make_order(6, Side::kBuy, 90, 1), log).ok());
  EXPECT_TRUE(engine.submit(make_order(7, Side::kSell, 110, 1), log).ok());
  const NewOrder resting = make_order(8, Side::kBuy, 95, 1);
  ASSERT_TRUE(engine.submit(resting, log).ok());
  EXPECT_EQ(engine.amend(OrderId{8}, resting.user, Price{80}, Quantity{1}, log).reason(),
            RejectReason::kPriceBand);
}

TEST(Engine, MarketOrderStopsAtPriceBandEdge) {
  Engine engine(band_config(10));
  EventLog log;
  ASSERT_TRUE(engine.submit(make_order(1, Side::kSell, 100, 1), log).ok());
  ASSERT_TRUE(engine.submit(make_order(2, Side::kSell, 105, 5), log).ok());
  ASSERT_TRUE(engine.submit(make_order(3, Side::kSell, 120, 5), log).ok());
  ASSERT_TRUE(engine.submit(make_order(4, Side::kBuy, 100, 1), log).ok());
  log.clear();

  ASSERT_TRUE(engine.submit(make_order(5, Side::kBuy, 0, 10, 0, OrderType::kMarket), log).ok());

  const std::vector<Trade> trades = events_of<Trade>(log);
  ASSERT_EQ(trades.size(), 1u);
  EXPECT_EQ(trades[0].price.ticks, 105);
  const std::vector<OrderCancelled> cancels = events_of<OrderCancelled>(log);
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].cancelled_quantity.lots, 5);
  EXPECT_TRUE(engine.order(OrderId{3}).has_value());
}

TEST(Engine, PositionsAfterRoundTrip) {
  Engine engine;
  EventLog log;
  const UserId trader{1};
  ASSERT_TRUE(engine.submit(make_order(1, Side::kSell, 100, 10, 2), log).ok());
  ASSERT_TRUE(engine.submit(make_order(2, Side::kBuy, 100, 10, trader.value), log).ok());

  // Sell 4 at 110: 4 x 10 ticks of profit are realised, 6 stay open at a cost of 600.
  ASSERT_TRUE(engine.submit(make_order(3, Side::kBuy, 110, 4, 3), log).ok());
  ASSERT_TRUE(engine.submit(make_order(4, Side::kSell, 110, 4, trader.value), log).ok());
  std::optional<Position> partly_closed = engine.position(trader, kSymbol);
  ASSERT_TRUE(partly_closed.has_value());
  EXPECT_EQ(partly_closed->net.lots, 6);
  EXPECT_EQ(partly_closed->realized_pnl.units, 40);
  EXPECT_EQ(partly_closed->open_cost.units, 600);
  EXPECT_EQ(partly_closed->cash.units, -560);

  // Sell the other 6 at 90: a loss of 60, so -20 in total.
  ASSERT_TRUE(engine.submit(make_order(5, Side::kBuy, 90, 6, 4), log).ok());
  ASSERT_TRUE(engine.submit(make_order(6, Side::kSell, 90, 6, trader.value), log).ok());
  const std::vector<Position> positions = engine.positions(trader);
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(positions[0].symbol, kSymbol);
  EXPECT_EQ(positions[0].net.lots, 0);
  EXPECT_EQ(positions[0].cash.units, -20);
  EXPECT_EQ(positions[0].realized_pnl.units, -20);
  EXPECT_EQ(positions[0].open_cost.units, 0);
  EXPECT_EQ(positions[0].bought.lots, 10);
  EXPECT_EQ(positions[0].sold.lots, 10);

  const std::optional<Position> counterparty = engine.position(UserId{2}, kSymbol);
  ASSERT_TRUE(counterparty.has_value());
  EXPECT_EQ(counterparty->net.lots, -10);
  EXPECT_EQ(counterparty->cash.units, 1000);
  EXPECT_EQ(counterparty->open_cost.units, -1000);
  EXPECT_TRUE(engine.positions(UserId{12345}).empty());
}

TEST(Engine, RejectsInvalidOrders) {
  Engine engine;
  EventLog log;

  EXPECT_EQ(engine.submit(make_order(1, Side::kBuy, 100, 0), log).reason(),
            RejectReason::kInvalidQuantity);
  EXPECT_EQ(engine.submit(make_order(2, Side::kBuy, 0, 5), log).reason(),
            RejectReason::kInvalidPrice);
  EXPECT_EQ(engine.submit(make_order(3, Side::kBuy, 1LL << 32, 1LL << 31), log).reason(),
            RejectReason::kNotionalOverflow);
  NewOrder lower_case = make_order(4, Side::kBuy, 100, 5);
  lower_case.symbol = "test";
  EXPECT_EQ(engine.submit(lower_case, log).reason(), RejectReason::kInvalidSymbol);
  NewOrder too_long = make_order(5, Side::kBuy, 100, 5);
  too_long.symbol = "ABCDEFGHIJKLMNOPQ";
  EXPECT_EQ(engine.submit(too_long, log).reason(), RejectReason::kInvalidSymbol);
  EXPECT_EQ(events_of<OrderRejected>(log).size(), 5u);
  EXPECT_TRUE(events_of<OrderAccepted>(log).empty());
  EXPECT_EQ(engine.stats().orders_rejected, 5u);
}

TEST(Engine, RejectsSymbolsBeyondMaximum) {
  EngineConfig config;
  config.max_symbols = 2;
  Engine engine(config);
  EventLog log;

  NewOrder order = make_order(1, Side::kBuy, 100, 5);
  order.symbol = "A.B";
  ASSERT_TRUE(engine.submit(order, log).ok());
  order.id = OrderId{2};
  order.symbol = "C_D-1";
  ASSERT_TRUE(engine.submit(order, log).ok());
  order.id = OrderId{3};
  order.symbol = "E";
  const Status third = engine.submit(order, log);

  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.reason(), RejectReason::kTooManySymbols);
  EXPECT_EQ(engine.stats().symbols, 2u);
}

TEST(Engine, DepthListsBestPricesFirst) {
  Engine engine;
  EventLog log;
  ASSERT_TRUE(engine.submit(make_order(1, Side::kBuy, 98, 1), log).ok());
  ASSERT_TRUE(engine.submit(make_order(2, Side::kBuy, 99, 2), log).ok());
  ASSERT_TRUE(engine.submit(make_order(3, Side::kBuy, 99, 3), log).ok());
  ASSERT_TRUE(engine.submit(make_order(4, Side::kSell, 102, 4), log).ok());
  ASSERT_TRUE(engine.submit(make_order(5, Side::kSell, 101, 5), log).ok());
  ASSERT_TRUE(engine.submit(make_order(6, Side::kSell, 103, 6), log).ok());

  const BookDepth depth = engine.depth(kSymbol, 2);

  EXPECT_EQ(depth.bids,
            (std::vector<DepthLevel>{{Price{99}, Quantity{5}, 2}, {Price{98}, Quantity{1}, 1}}));
  EXPECT_EQ(depth.asks,
            (std::vector<DepthLevel>{{Price{101}, Quantity{5}, 1}, {Price{102}, Quantity{4}, 1}}));
  EXPECT_TRUE(engine.depth("OTHER", 10).bids.empty());
}

TEST(Engine, UsesInstrumentOverrides) {
  EngineConfig config;
  Result<Instrument> coarse = Instrument::make("COARSE", "0.05", "10", 5);
  ASSERT_TRUE(coarse.ok());
  config.instruments.push_back(coarse.value());
  Engine engine(config);
  EventLog log;

  NewOrder order = make_order(1, Side::kBuy, 100, 5);
  order.symbol = "COARSE";
  ASSERT_TRUE(engine.submit(order, log).ok());
  ASSERT_TRUE(engine.submit(make_order(2, Side::kBuy, 100, 5), log).ok());

  const std::optional<Instrument> overridden = engine.instrument("COARSE");
  ASSERT_TRUE(overridden.has_value());
  EXPECT_EQ(overridden->tick_size, (Decimal{5, 2}));
  EXPECT_EQ(overridden->price_band_percent, 5u);
  const std::optional<Instrument> defaulted = engine.instrument(kSymbol);
  ASSERT_TRUE(defaulted.has_value());
  EXPECT_EQ(defaulted->tick_size, (Decimal{1, 2}));
  EXPECT_EQ(defaulted->symbol.view(), kSymbol);
  EXPECT_FALSE(engine.instrument("NEVER").has_value());
}

// A random stream of new orders, cancels and amends over a few users and symbols.
std::vector<std::string> run_random_stream(std::uint32_t seed) {
  Engine engine;
  EventLog log;
  std::mt19937_64 random(seed);
  const std::string_view symbols[] = {"AAA", "BBB"};
  std::vector<std::pair<std::uint64_t, std::uint64_t>> sent;  // (order id, user)

  for (std::uint64_t id = 1; id <= 3000; ++id) {
    const std::uint64_t user = 1 + random() % 4;
    const auto action = random() % 10;
    if (action < 2 && !sent.empty()) {
      const auto& [target, owner] = sent[random() % sent.size()];
      (void)engine.cancel(OrderId{target}, UserId{owner}, log);
    } else if (action < 4 && !sent.empty()) {
      const auto& [target, owner] = sent[random() % sent.size()];
      (void)engine.amend(OrderId{target}, UserId{owner},
                         Price{static_cast<std::int64_t>(95 + random() % 11)},
                         Quantity{static_cast<std::int64_t>(1 + random() % 20)}, log);
    } else {
      NewOrder order = make_order(id, random() % 2 ? Side::kBuy : Side::kSell,
                                  static_cast<std::int64_t>(95 + random() % 11),
                                  static_cast<std::int64_t>(1 + random() % 20), user,
                                  static_cast<OrderType>(random() % 4));
      order.symbol = symbols[random() % 2];
      order.self_trade_prevention = static_cast<SelfTradePrevention>(random() % 3);
      (void)engine.submit(order, log);
      sent.emplace_back(id, user);
    }
  }
  return describe_all(log);
}

TEST(Engine, SameInputGivesSameEvents) {
  const std::vector<std::string> first = run_random_stream(42);
  const std::vector<std::string> second = run_random_stream(42);

  EXPECT_GT(first.size(), 3000u);
  EXPECT_EQ(first, second);
}

TEST(Engine, PrefetchChangesNothing) {
  Engine engine;
  EventLog log;
  ASSERT_TRUE(engine.submit(make_order(1, Side::kBuy, 99, 5), log).ok());
  log.clear();

  engine.prefetch(OrderId{1});
  engine.prefetch(OrderId{2});

  EXPECT_TRUE(log.events().empty());
  const std::optional<OrderView> order = engine.order(OrderId{1});
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(order->remaining, Quantity{5});
  EXPECT_FALSE(engine.order(OrderId{2}).has_value());
  EXPECT_EQ(engine.stats().resting_orders, 1u);
}

}  // namespace
}  // namespace hft::engine
