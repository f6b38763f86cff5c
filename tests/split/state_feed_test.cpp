// The encoding of the engine's state stream entries: a round trip keeps every field, and a
// truncated or altered payload is rejected instead of read out of bounds.
#include "gateway/state_feed.h"

#include <gtest/gtest.h>

#include <string>

namespace hft::gateway {
namespace {

StateChanges sample_changes() {
  StateChanges changes;
  changes.users.push_back(UserChange{engine::UserId{7}, "alice", "alice@example.com", "$argon"});

  OrderRecord record;
  record.id = engine::OrderId{42};
  record.user = engine::UserId{7};
  record.request.symbol = engine::Symbol::parse("AAPL").value();
  record.request.side = engine::Side::kSell;
  record.request.type = engine::OrderType::kIoc;
  record.request.price = engine::Price{15'000};
  record.request.quantity = engine::Quantity{10};
  record.request.post_only = true;
  EXPECT_TRUE(record.request.client_order_id.assign("client-1"));
  record.created_unix_ns = 1'700'000'000'123'456'789;
  record.status = ApiOrderStatus::kPartiallyFilled;
  record.filled = engine::Quantity{4};
  record.filled_notional = engine::Notional{60'000};
  record.exists = true;
  changes.orders.push_back(record);

  auto book = std::make_shared<BookSnapshot>();
  book->batch = 9;
  book->depth.bids.push_back(engine::DepthLevel{engine::Price{14'900}, engine::Quantity{3}, 2});
  book->depth.asks.push_back(engine::DepthLevel{engine::Price{15'100}, engine::Quantity{6}, 1});
  changes.books.emplace_back("AAPL", book);

  auto positions = std::make_shared<std::vector<PositionSnapshot>>();
  PositionSnapshot position;
  position.symbol = "AAPL";
  position.position.net = engine::Quantity{-4};
  position.position.cash = engine::Notional{60'000};
  position.position.realized_pnl = engine::Notional{-5};
  position.position.open_cost = engine::Notional{60'000};
  position.position.sold = engine::Quantity{4};
  positions->push_back(position);
  changes.positions.emplace_back(engine::UserId{7}, positions);
  return changes;
}

TEST(StateFeed, RoundTripKeepsEveryField) {
  std::string payload;
  encode_state_changes(sample_changes(), payload);
  StateChanges decoded;
  ASSERT_TRUE(decode_state_changes(payload, decoded));

  ASSERT_EQ(decoded.users.size(), 1u);
  EXPECT_EQ(decoded.users[0].id.value, 7u);
  EXPECT_EQ(decoded.users[0].username, "alice");
  EXPECT_EQ(decoded.users[0].email, "alice@example.com");
  EXPECT_EQ(decoded.users[0].password_hash, "$argon");

  ASSERT_EQ(decoded.orders.size(), 1u);
  const OrderRecord& order = decoded.orders[0];
  EXPECT_EQ(order.id.value, 42u);
  EXPECT_EQ(order.user.value, 7u);
  EXPECT_EQ(order.request.symbol.view(), "AAPL");
  EXPECT_EQ(order.request.side, engine::Side::kSell);
  EXPECT_EQ(order.request.type, engine::OrderType::kIoc);
  EXPECT_EQ(order.request.price.ticks, 15'000);
  EXPECT_EQ(order.request.quantity.lots, 10);
  EXPECT_TRUE(order.request.post_only);
  EXPECT_EQ(order.request.client_order_id.view(), "client-1");
  EXPECT_EQ(order.created_unix_ns, 1'700'000'000'123'456'789);
  EXPECT_EQ(order.status, ApiOrderStatus::kPartiallyFilled);
  EXPECT_EQ(order.filled.lots, 4);
  EXPECT_EQ(order.filled_notional.units, 60'000);
  EXPECT_TRUE(order.exists);

  ASSERT_EQ(decoded.books.size(), 1u);
  EXPECT_EQ(decoded.books[0].first, "AAPL");
  EXPECT_EQ(decoded.books[0].second->batch, 9u);
  EXPECT_EQ(decoded.books[0].second->depth.bids, sample_changes().books[0].second->depth.bids);
  EXPECT_EQ(decoded.books[0].second->depth.asks, sample_changes().books[0].second->depth.asks);

  ASSERT_EQ(decoded.positions.size(), 1u);
  EXPECT_EQ(decoded.positions[0].first.value, 7u);
  ASSERT_EQ(decoded.positions[0].second->size(), 1u);
  const PositionSnapshot& position = decoded.positions[0].second->front();
  EXPECT_EQ(position.symbol, "AAPL");
  EXPECT_EQ(position.position.net.lots, -4);
  EXPECT_EQ(position.position.cash.units, 60'000);
  EXPECT_EQ(position.position.realized_pnl.units, -5);
  EXPECT_EQ(position.position.open_cost.units, 60'000);
  EXPECT_EQ(position.position.bought.lots, 0);
  EXPECT_EQ(position.position.sold.lots, 4);
}

TEST(StateFeed, EveryTruncationIsRejected) {
  std::string payload;
  encode_state_changes(sample_changes(), payload);
  StateChanges decoded;
  for (std::size_t size = 0; size < payload.size(); ++size) {
    EXPECT_FALSE(decode_state_changes(std::string_view(payload).substr(0, size), decoded))
        << "a payload cut to " << size << " of " << payload.size() << " bytes was accepted";
  }
}

TEST(StateFeed, HugeCountIsRejected) {
  std::string payload;
  encode_state_changes(StateChanges{}, payload);
  // The user count follows the format byte.
  payload[1] = '\xff';
  payload[2] = '\xff';
  StateChanges decoded;
  EXPECT_FALSE(decode_state_changes(payload, decoded));
}

TEST(StateFeed, ApplyAddsUsersAndReplacesRecords) {
  OrderStore orders;
  UserDirectory users;
  MarketView market;
  StateChanges changes = sample_changes();
  AppliedCounts first = apply_state_changes(std::move(changes), orders, users, market);
  EXPECT_EQ(first.users, 1u);
  EXPECT_EQ(first.orders, 1u);
  EXPECT_EQ(first.max_order_id, 42u);
  ASSERT_NE(users.find_by_name("alice"), nullptr);
  auto record = orders.find(engine::OrderId{42});
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->status, ApiOrderStatus::kPartiallyFilled);
  ASSERT_NE(market.book("AAPL"), nullptr);
  ASSERT_NE(market.positions(engine::UserId{7}), nullptr);

  // The same entry again changes nothing and does not list the order twice for its user.
  AppliedCounts second = apply_state_changes(sample_changes(), orders, users, market);
  EXPECT_EQ(second.users, 0u);
  std::size_t listed = 0;
  users.for_each_recent_order(engine::UserId{7}, [&](engine::OrderId) {
    ++listed;
    return true;
  });
  EXPECT_EQ(listed, 1u);
}

}  // namespace
}  // namespace hft::gateway
