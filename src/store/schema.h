// The PostgreSQL schema of the sink and its migrations. The table `schema_version` records each
// applied migration. migrate() applies the missing ones in order, in one transaction, under an
// advisory lock, so two servers starting together do not race. Running it again changes nothing.
//
// Tables (see rows.h for the units):
//   instruments     symbol -> tick_size, lot_size (NUMERIC)
//   users           user_id -> username (unique), email, created_at
//   orders          order_id -> owner, symbol, side, type, price_ticks, quantity_lots,
//                   filled_lots, filled_notional, status, client_order_id, reject_reason,
//                   created_at, journal_sequence of the last change
//   trades          trade_id -> symbol, price, quantity, maker and taker order and user,
//                   aggressor side, executed_at, journal_sequence
//   positions       (user_id, symbol) -> net_lots, cash, realized P&L and open cost in notional
//                   units, bought and sold lots, journal_sequence of the last change
//   store_progress  sink name -> the last journal sequence whose rows are committed
//
// A free function over a Connection the caller owns; errors are returned as text.
#pragma once

#include <optional>
#include <string>

#include "store/connection.h"

namespace hft::store {

// The version the last migration of this build creates.
inline constexpr int kSchemaVersion = 1;

// Creates or upgrades the schema to kSchemaVersion. Fails, changing nothing, when the database
// has a newer version than this build supports.
[[nodiscard]] std::string migrate(Connection& connection);

// The highest version in schema_version; 0 when the table does not exist. nullopt on failure.
[[nodiscard]] std::optional<int> schema_version(Connection& connection, std::string& error);

}  // namespace hft::store
