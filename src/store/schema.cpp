#include "store/schema.h"

#include <fmt/format.h>

#include <cstdlib>

namespace hft::store {

namespace {

// Any fixed number shared by every process that migrates this schema.
constexpr std::string_view kMigrationLockKey = "7240311";

struct Migration {
  int version;
  std::string_view sql;
};

constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE instruments (
  symbol TEXT PRIMARY KEY,
  tick_size NUMERIC NOT NULL CHECK (tick_size > 0),
  lot_size NUMERIC NOT NULL CHECK (lot_size > 0)
);

CREATE TABLE users (
  user_id BIGINT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE orders (
  order_id BIGINT PRIMARY KEY,
  user_id BIGINT NOT NULL,
  symbol TEXT NOT NULL,
  side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
  order_type TEXT NOT NULL CHECK (order_type IN ('LIMIT', 'MARKET', 'IOC', 'FOK')),
  price_ticks BIGINT NOT NULL,
  quantity_lots BIGINT NOT NULL,
  filled_lots BIGINT NOT NULL,
  filled_notional BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN
    ('QUEUED', 'OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCELLED', 'REJECTED')),
  client_order_id TEXT,
  reject_reason TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  journal_sequence BIGINT NOT NULL
);
CREATE INDEX orders_by_user ON orders (user_id, order_id);

CREATE TABLE trades (
  trade_id BIGINT PRIMARY KEY,
  symbol TEXT NOT NULL,
  price_ticks BIGINT NOT NULL,
  quantity_lots BIGINT NOT NULL,
  maker_order_id BIGINT NOT NULL,
  taker_order_id BIGINT NOT NULL,
  maker_user_id BIGINT NOT NULL,
  taker_user_id BIGINT NOT NULL,
  aggressor TEXT NOT NULL CHECK (aggressor IN ('BUY', 'SELL')),
  executed_at TIMESTAMPTZ NOT NULL,
  journal_sequence BIGINT NOT NULL
);
CREATE INDEX trades_by_symbol ON trades (symbol, trade_id);

CREATE TABLE positions (
  user_id BIGINT NOT NULL,
  symbol TEXT NOT NULL,
  net_lots BIGINT NOT NULL,
  cash_notional BIGINT NOT NULL,
  realized_pnl_notional BIGINT NOT NULL,
  open_cost_notional BIGINT NOT NULL,
  bought_lots BIGINT NOT NULL,
  sold_lots BIGINT NOT NULL,
  journal_sequence BIGINT NOT NULL,
  PRIMARY KEY (user_id, symbol)
);

CREATE TABLE store_progress (
  sink TEXT PRIMARY KEY,
  journal_sequence BIGINT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE VIEW orders_decimal AS
SELECT o.order_id, o.user_id, o.symbol, o.side, o.order_type,
       o.price_ticks * i.tick_size AS price,
       o.quantity_lots * i.lot_size AS quantity,
       o.filled_lots * i.lot_size AS filled_quantity,
       CASE WHEN o.filled_lots = 0 THEN NULL
            ELSE o.filled_notional * i.tick_size / o.filled_lots END AS average_price,
       o.status, o.client_order_id, o.reject_reason, o.created_at
FROM orders o LEFT JOIN instruments i USING (symbol);

CREATE VIEW trades_decimal AS
SELECT t.trade_id, t.symbol, t.price_ticks * i.tick_size AS price,
       t.quantity_lots * i.lot_size AS quantity, t.maker_order_id, t.taker_order_id,
       t.maker_user_id, t.taker_user_id, t.aggressor, t.executed_at
FROM trades t LEFT JOIN instruments i USING (symbol);

CREATE VIEW positions_decimal AS
SELECT p.user_id, p.symbol, p.net_lots * i.lot_size AS quantity,
       p.cash_notional * i.tick_size * i.lot_size AS cash,
       p.realized_pnl_notional * i.tick_size * i.lot_size AS realized_pnl,
       p.open_cost_notional * i.tick_size * i.lot_size AS open_cost
FROM positions p LEFT JOIN instruments i USING (symbol);
)sql";

constexpr Migration kMigrations[] = {{1, kVersion1}};
static_assert(std::size(kMigrations) == kSchemaVersion,
              "kSchemaVersion must name the last migration");

}  // namespace

std::optional<int> schema_version(Connection& connection, std::string& error) {
  Outcome exists = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL");
  if (!exists.ok()) {
    error = exists.error;
    return std::nullopt;
  }
  if (std::string_view(PQgetvalue(exists.result.get(), 0, 0)) != "t") return 0;

  Outcome version = connection.execute("SELECT coalesce(max(version), 0) FROM schema_version");
  if (!version.ok()) {
    error = version.error;
    return std::nullopt;
  }
  return std::atoi(PQgetvalue(version.result.get(), 0, 0));
}

std::string migrate(Connection& connection) {
  Outcome begin = connection.execute("BEGIN");
  if (!begin.ok()) return begin.error;

  // Any error below leaves the transaction aborted; ROLLBACK undoes every step.
  auto fail = [&](std::string error) {
    (void)connection.execute("ROLLBACK");
    return error;
  };

  Outcome lock =
      connection.execute(fmt::format("SELECT pg_advisory_xact_lock({})", kMigrationLockKey));
  if (!lock.ok()) return fail(lock.error);
  Outcome table = connection.execute(
      "CREATE TABLE IF NOT EXISTS schema_version ("
      " version INTEGER PRIMARY KEY,"
      " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
  if (!table.ok()) return fail(table.error);

  std::string error;
  std::optional<int> current = schema_version(connection, error);
  if (!current) return fail(error);
  if (*current > kSchemaVersion) {
    return fail(fmt::format(
        "the database at {} has schema version {}, newer than version {} of this build; run a "
        "newer hft or another database",
        connection.url().redacted(), *current, kSchemaVersion));
  }

  for (const Migration& migration : kMigrations) {
    if (migration.version <= *current) continue;
    Outcome applied = connection.execute(migration.sql);
    if (!applied.ok()) return fail(applied.error);
    Outcome recorded = connection.execute("INSERT INTO schema_version (version) VALUES ($1)",
                                          {std::to_string(migration.version)});
    if (!recorded.ok()) return fail(recorded.error);
  }

  Outcome commit = connection.execute("COMMIT");
  if (!commit.ok()) return fail(commit.error);
  return {};
}

}  // namespace hft::store
