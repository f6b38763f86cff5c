// Checks the engine against a deliberately simple model: a flat list of resting orders scanned
// in full for every match. Users differ per order, so self-trade prevention never applies.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "engine/engine.h"
#include "engine_test_helpers.h"

namespace hft::engine {
namespace {

using testing::events_of;
using testing::kSymbol;
using testing::make_order;

using TradeKey = std::tuple<std::uint64_t, std::uint64_t, std::int64_t, std::int64_t>;

class ReferenceBook {
 public:
  struct Order {
    std::uint64_t id;
    Side side;
    std::int64_t price;
    std::int64_t remaining;
    std::uint64_t sequence;
  };

  // Returns the trades as (maker id, taker id, price, quantity) and rests a limit remainder.
  std::vector<TradeKey> submit(std::uint64_t id, Side side, std::int64_t price,
                               std::int64_t quantity, OrderType type) {
    std::vector<TradeKey> trades;
    if (type == OrderType::kFok && fillable(side, price, type) < quantity) return trades;
    std::int64_t remaining = quantity;
    while (remaining > 0) {
      Order* best = best_maker(side, price, type);
      if (best == nullptr) break;
      const std::int64_t lots = std::min(remaining, best->remaining);
      trades.emplace_back(best->id, id, best->price, lots);
      remaining -= lots;
      best->remaining -= lots;
      if (best->remaining == 0) erase(best->id);
    }
    if (remaining > 0 && type == OrderType::kLimit) {
      orders_.push_back(Order{id, side, price, remaining, ++sequence_});
    }
    return trades;
  }

  bool cancel(std::uint64_t id) { return erase(id); }

  std::vector<TradeKey> amend(std::uint64_t id, std::int64_t price, std::int64_t remaining) {
    Order* order = find(id);
    if (order == nullptr) return {};
    if (order->price == price) {
      if (remaining > order->remaining) order->sequence = ++sequence_;
      order->remaining = remaining;
      return {};
    }
    const Side side = order->side;
    erase(id);
    return submit(id, side, price, remaining, OrderType::kLimit);
  }

  BookDepth depth() const {
    std::map<std::int64_t, DepthLevel, std::greater<>> bids;
    std::map<std::int64_t, DepthLevel> asks;
    for (const Order& order : orders_) {
      DepthLevel& level = order.side == Side::kBuy ? bids[order.price] : asks[order.price];
      level.price = Price{order.price};
      level.quantity.lots += order.remaining;
      ++level.orders;
    }
    BookDepth out;
    for (const auto& [price, level] : bids) out.bids.push_back(level);
    for (const auto& [price, level] : asks) out.asks.push_back(level);
    return out;
  }

  bool contains(std::uint64_t id) { return find(id) != nullptr; }

 private:
  static bool acceptable(Side taker, std::int64_t maker_price, std::int64_t limit, OrderType type) {
    if (type == OrderType::kMarket) return true;
    return taker == Side::kBuy ? maker_price <= limit : maker_price >= limit;
  }

  Order* best_maker(Side taker, std::int64_t limit, OrderType type) {
    Order* best = nullptr;
    for (Order& order : orders_) {
      if (order.side == taker || !acceptable(taker, order.price, limit, type)) continue;
      const bool better_price =
          best != nullptr &&
          (taker == Side::kBuy ? order.price < best->price : order.price > best->price);
      const bool same_price_earlier =
          best != nullptr && order.price == best->price && order.sequence < best->sequence;
      if (best == nullptr || better_price || same_price_earlier) best = &order;
    }
    return best;
  }

  std::int64_t fillable(Side taker, std::int64_t limit, OrderType type) const {
    std::int64_t total = 0;
    for (const Order& order : orders_) {
      if (order.side != taker && acceptable(taker, order.price, limit, type)) {
        total += order.remaining;
      }
    }
    return total;
  }

  Order* find(std::uint64_t id) {
    for (Order& order : orders_) {
      if (order.id == id) return &order;
    }
    return nullptr;
  }

  bool erase(std::uint64_t id) {
    const auto it = std::find_if(orders_.begin(), orders_.end(),
                                 [id](const Order& order) { return order.id == id; });
    if (it == orders_.end()) return false;
    orders_.erase(it);
    return true;
  }

  std::vector<Order> orders_;
  std::uint64_t sequence_ = 0;
};

std::vector<TradeKey> trade_keys(const EventLog& log) {
  std::vector<TradeKey> out;
  for (const Trade& trade : events_of<Trade>(log)) {
    out.emplace_back(trade.maker_id.value, trade.taker_id.value, trade.price.ticks,
                     trade.quantity.lots);
  }
  return out;
}

TEST(ReferenceModel, RandomStreamMatchesSimpleModel) {
  Engine engine;
  ReferenceBook reference;
  EventLog log;
  std::mt19937_64 random(2024);
  std::vector<std::uint64_t> ids;
  std::size_t trades_compared = 0;

  for (std::uint64_t step = 1; step <= 20'000; ++step) {
    log.clear();
    std::vector<TradeKey> expected;
    const auto action = random() % 10;
    const auto price = static_cast<std::int64_t>(80 + random() % 41);
    const auto lots = static_cast<std::int64_t>(1 + random() % 30);

    if (action < 2 && !ids.empty()) {
      const std::uint64_t id = ids[random() % ids.size()];
      const bool expected_ok = reference.cancel(id);
      ASSERT_EQ(engine.cancel(OrderId{id}, UserId{1000 + id}, log).ok(), expected_ok) << step;
    } else if (action < 4 && !ids.empty()) {
      const std::uint64_t id = ids[random() % ids.size()];
      const bool expected_ok = reference.contains(id);
      expected = reference.amend(id, price, lots);
      ASSERT_EQ(
          engine.amend(OrderId{id}, UserId{1000 + id}, Price{price}, Quantity{lots}, log).ok(),
          expected_ok)
          << step;
    } else {
      const Side side = random() % 2 ? Side::kBuy : Side::kSell;
      const auto type = static_cast<OrderType>(random() % 8 < 5 ? 0 : random() % 4);
      expected = reference.submit(step, side, price, lots, type);
      const Status status = engine.submit(make_order(step, side, price, lots, 0, type), log);
      ASSERT_TRUE(status.ok() || status.reason() == RejectReason::kFokNotFillable) << step;
      ids.push_back(step);
    }

    ASSERT_EQ(trade_keys(log), expected) << "step " << step;
    trades_compared += expected.size();
    if (step % 97 == 0) {
      const BookDepth actual = engine.depth(kSymbol, 1000);
      const BookDepth wanted = reference.depth();
      ASSERT_EQ(actual.bids, wanted.bids) << "step " << step;
      ASSERT_EQ(actual.asks, wanted.asks) << "step " << step;
    }
  }
  EXPECT_GT(trades_compared, 5'000u);
}

// Prices cluster around the first order's price but also fall thousands of ticks away on both
// sides, so levels inside and outside the engine's direct price window trade and empty together.
TEST(ReferenceModel, FarApartPricesMatchSimpleModel) {
  Engine engine;
  ReferenceBook reference;
  EventLog log;
  std::mt19937_64 random(77);
  std::vector<std::uint64_t> ids;
  std::size_t trades_compared = 0;
  const auto random_price = [&random]() -> std::int64_t {
    constexpr std::int64_t kCentre = 10'000;
    constexpr std::int64_t kOffsets[] = {0, -2'047, 2'046, -2'049, 2'048, -5'000, 9'000, -9'990};
    const std::int64_t base = kCentre + kOffsets[random() % std::size(kOffsets)];
    return base + static_cast<std::int64_t>(random() % 5) - 2;
  };

  ASSERT_TRUE(engine.submit(make_order(1'000'000, Side::kBuy, 10'000, 1), log).ok());
  reference.submit(1'000'000, Side::kBuy, 10'000, 1, OrderType::kLimit);
  for (std::uint64_t step = 1; step <= 20'000; ++step) {
    log.clear();
    std::vector<TradeKey> expected;
    const auto action = random() % 10;
    const std::int64_t price = random_price();
    const auto lots = static_cast<std::int64_t>(1 + random() % 30);

    if (action < 2 && !ids.empty()) {
      const std::uint64_t id = ids[random() % ids.size()];
      const bool expected_ok = reference.cancel(id);
      ASSERT_EQ(engine.cancel(OrderId{id}, UserId{1000 + id}, log).ok(), expected_ok) << step;
    } else if (action < 4 && !ids.empty()) {
      const std::uint64_t id = ids[random() % ids.size()];
      const bool expected_ok = reference.contains(id);
      expected = reference.amend(id, price, lots);
      ASSERT_EQ(
          engine.amend(OrderId{id}, UserId{1000 + id}, Price{price}, Quantity{lots}, log).ok(),
          expected_ok)
          << step;
    } else {
      const Side side = random() % 2 ? Side::kBuy : Side::kSell;
      const auto type = static_cast<OrderType>(random() % 8 < 6 ? 0 : random() % 4);
      expected = reference.submit(step, side, price, lots, type);
      const Status status = engine.submit(make_order(step, side, price, lots, 0, type), log);
      ASSERT_TRUE(status.ok() || status.reason() == RejectReason::kFokNotFillable) << step;
      ids.push_back(step);
    }

    ASSERT_EQ(trade_keys(log), expected) << "step " << step;
    trades_compared += expected.size();
    if (step % 97 == 0) {
      const BookDepth actual = engine.depth(kSymbol, 1000);
      const BookDepth wanted = reference.depth();
      ASSERT_EQ(actual.bids, wanted.bids) << "step " << step;
      ASSERT_EQ(actual.asks, wanted.asks) << "step " << step;
    }
  }
  EXPECT_GT(trades_compared, 2'000u);
}

}  // namespace
}  // namespace hft::engine
