#include "gateway/state_feed.h"

#include <string_view>
#include <type_traits>

#include "gateway/byte_codec.h"
#include "gateway/order_request_codec.h"

namespace hft::gateway {

namespace {

constexpr std::uint8_t kFormatVersion = 1;

using Writer = ByteWriter<std::string>;
using Reader = ByteReader;

void encode_order(Writer& writer, const OrderRecord& record) {
  writer.integer(record.id.value);
  writer.integer(record.user.value);
  writer.integer(record.created_unix_ns);
  encode_order_request(writer, record.request);
  writer.integer(static_cast<std::uint8_t>(record.status));
  writer.integer(record.filled.lots);
  writer.integer(record.filled_notional.units);
  writer.integer(static_cast<std::uint8_t>(record.reject_reason));
}

bool decode_order(Reader& reader, OrderRecord& record) {
  bool ok = reader.integer(record.id.value) && reader.integer(record.user.value) &&
            reader.integer(record.created_unix_ns) &&
            decode_order_request(reader, record.request) &&
            reader.enumeration(record.status, ApiOrderStatus::kRejected) &&
            reader.integer(record.filled.lots) && reader.integer(record.filled_notional.units) &&
            reader.enumeration(record.reject_reason, engine::RejectReason::kFokNotFillable);
  if (!ok) return false;
  record.exists = true;
  return record.id.value != 0;
}

void encode_levels(Writer& writer, const std::vector<engine::DepthLevel>& levels) {
  writer.integer(static_cast<std::uint32_t>(levels.size()));
  for (const engine::DepthLevel& level : levels) {
    writer.integer(level.price.ticks);
    writer.integer(level.quantity.lots);
    writer.integer(level.orders);
  }
}

bool decode_levels(Reader& reader, std::vector<engine::DepthLevel>& levels) {
  std::uint32_t count = 0;
  if (!reader.count(count, 20)) return false;
  levels.resize(count);
  for (engine::DepthLevel& level : levels) {
    if (!reader.integer(level.price.ticks) || !reader.integer(level.quantity.lots) ||
        !reader.integer(level.orders)) {
      return false;
    }
  }
  return true;
}

void encode_position(Writer& writer, const PositionSnapshot& snapshot) {
  const engine::Position& position = snapshot.position;
  writer.text(snapshot.symbol);
  writer.integer(position.net.lots);
  writer.integer(position.cash.units);
  writer.integer(position.realized_pnl.units);
  writer.integer(position.open_cost.units);
  writer.integer(position.bought.lots);
  writer.integer(position.sold.lots);
}

bool decode_position(Reader& reader, PositionSnapshot& snapshot) {
  engine::Position& position = snapshot.position;
  std::string_view symbol;
  bool ok = reader.text(symbol) && reader.integer(position.net.lots) &&
            reader.integer(position.cash.units) && reader.integer(position.realized_pnl.units) &&
            reader.integer(position.open_cost.units) && reader.integer(position.bought.lots) &&
            reader.integer(position.sold.lots);
  if (!ok) return false;
  snapshot.symbol = symbol;
  // The engine's symbol table is not here; readers use snapshot.symbol.
  position.symbol = {};
  return true;
}

}  // namespace

void encode_state_changes(const StateChanges& changes, std::string& out) {
  Writer writer(out);
  writer.integer(kFormatVersion);

  writer.integer(static_cast<std::uint32_t>(changes.users.size()));
  for (const UserChange& user : changes.users) {
    writer.integer(user.id.value);
    writer.text(user.username);
    writer.text(user.email);
    writer.text(user.password_hash);
  }

  writer.integer(static_cast<std::uint32_t>(changes.orders.size()));
  for (const OrderRecord& record : changes.orders) encode_order(writer, record);

  writer.integer(static_cast<std::uint32_t>(changes.books.size()));
  for (const auto& [symbol, book] : changes.books) {
    writer.text(symbol);
    writer.integer(book->batch);
    encode_levels(writer, book->depth.bids);
    encode_levels(writer, book->depth.asks);
  }

  writer.integer(static_cast<std::uint32_t>(changes.positions.size()));
  for (const auto& [user, positions] : changes.positions) {
    writer.integer(user.value);
    writer.integer(static_cast<std::uint32_t>(positions->size()));
    for (const PositionSnapshot& snapshot : *positions) encode_position(writer, snapshot);
  }
}

bool decode_state_changes(std::string_view payload, StateChanges& changes) {
  changes = {};
  Reader reader(payload);
  std::uint8_t version = 0;
  if (!reader.integer(version) || version != kFormatVersion) return false;

  std::uint32_t count = 0;
  if (!reader.count(count, 14)) return false;
  changes.users.resize(count);
  for (UserChange& user : changes.users) {
    std::string_view username;
    std::string_view email;
    std::string_view hash;
    if (!reader.integer(user.id.value) || !reader.text(username) || !reader.text(email) ||
        !reader.text(hash)) {
      return false;
    }
    user.username = username;
    user.email = email;
    user.password_hash = hash;
  }

  if (!reader.count(count, 60)) return false;
  changes.orders.resize(count);
  for (OrderRecord& record : changes.orders) {
    if (!decode_order(reader, record)) return false;
  }

  if (!reader.count(count, 18)) return false;
  changes.books.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string_view symbol;
    auto book = std::make_shared<BookSnapshot>();
    if (!reader.text(symbol) || !reader.integer(book->batch) ||
        !decode_levels(reader, book->depth.bids) || !decode_levels(reader, book->depth.asks)) {
      return false;
    }
    changes.books.emplace_back(std::string(symbol), std::move(book));
  }

  if (!reader.count(count, 12)) return false;
  changes.positions.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint64_t user = 0;
    std::uint32_t size = 0;
    if (!reader.integer(user) || !reader.count(size, 50)) return false;
    auto positions = std::make_shared<std::vector<PositionSnapshot>>(size);
    for (PositionSnapshot& snapshot : *positions) {
      if (!decode_position(reader, snapshot)) return false;
    }
    changes.positions.emplace_back(engine::UserId{user}, std::move(positions));
  }
  return reader.at_end();
}

AppliedCounts apply_state_changes(StateChanges&& changes, OrderStore& orders, UserDirectory& users,
                                  MarketView& market) {
  AppliedCounts counts;
  for (UserChange& user : changes.users) {
    if (users.find(user.id) != nullptr) continue;
    if (users.restore(user.id, user.username, user.email, std::move(user.password_hash))) {
      ++counts.users;
    }
  }

  for (const OrderRecord& record : changes.orders) {
    bool known = orders.find(record.id).has_value();
    if (!orders.create(record)) continue;
    if (!known) users.add_order(record.user, record.id);
    ++counts.orders;
    counts.max_order_id = std::max(counts.max_order_id, record.id.value);
  }

  for (auto& [symbol, book] : changes.books) market.publish_book(symbol, std::move(book));
  for (auto& [user, positions] : changes.positions) {
    market.publish_positions(user, std::move(positions));
  }
  return counts;
}

}  // namespace hft::gateway
