// The PostgreSQL sink against a real PostgreSQL 15: schema creation, batches written with their
// progress, resuming after a restart of the writer, and an outage of the server mid-stream.
#include "store/store_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "postgres_server.h"
#include "store/schema.h"
#include "watchdog.h"

namespace hft::store {
namespace {

using test::PostgresServer;
using test::Watchdog;

constexpr std::uint64_t kOrdersPerBatch = 10;
constexpr std::uint64_t kUsers = 3;
const char* const kSymbols[] = {"AAPL", "MSFT"};

PostgresUrl parse(const std::string& text) {
  PostgresUrlResult result = parse_postgres_url(text);
  if (!result.ok()) throw std::runtime_error(result.error);
  return *result.url;
}

std::unique_ptr<Connection> connect_to(const PostgresServer& server) {
  ConnectResult result = Connection::connect(parse(server.url()), std::chrono::seconds(5));
  if (!result.connection) throw std::runtime_error(result.error);
  return std::move(result.connection);
}

// The single value of a query, as text.
std::string query_value(Connection& connection, const std::string& sql) {
  Outcome outcome = connection.execute(sql);
  if (!outcome.ok()) throw std::runtime_error(outcome.error);
  if (PQntuples(outcome.result.get()) != 1) throw std::runtime_error("not one row: " + sql);
  return PQgetvalue(outcome.result.get(), 0, 0);
}

std::int64_t query_number(Connection& connection, const std::string& sql) {
  return std::stoll(query_value(connection, sql));
}

OrderRow make_order(std::uint64_t id, OrderState state) {
  OrderRow row;
  row.order = engine::OrderId{id};
  row.user = engine::UserId{id % kUsers + 1};
  row.symbol = kSymbols[id % 2];
  row.side = id % 2 == 0 ? engine::Side::kBuy : engine::Side::kSell;
  row.price = engine::Price{15025};
  row.quantity = engine::Quantity{100};
  row.state = state;
  if (state == OrderState::kFilled) {
    row.filled = row.quantity;
    row.filled_notional = engine::Notional{15025 * 100};
  }
  row.client_order_id = id % 5 == 0 ? "" : "client\t" + std::to_string(id);
  row.created_unix_ns = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(id) * 1000;
  return row;
}

// Batch `sequence`: the users and instruments first (sequence 1), then per batch ten new orders,
// the fill of the previous batch's orders, one trade and one position update.
Batch make_batch(std::uint64_t sequence) {
  Batch batch;
  batch.journal_sequence = sequence;
  if (sequence == 1) {
    for (const char* symbol : kSymbols) {
      batch.instruments.push_back({symbol, engine::Decimal{1, 2}, engine::Decimal{1, 2}});
    }
    for (std::uint64_t user = 1; user <= kUsers; ++user) {
      batch.users.push_back({engine::UserId{user}, "user" + std::to_string(user),
                             "user" + std::to_string(user) + "@example.com", 1'700'000'000});
    }
  }
  std::uint64_t first = (sequence - 1) * kOrdersPerBatch + 1;
  for (std::uint64_t id = first; id < first + kOrdersPerBatch; ++id) {
    batch.orders.push_back(make_order(id, OrderState::kQueued));
    if (sequence > 1) batch.orders.push_back(make_order(id - kOrdersPerBatch, OrderState::kFilled));
  }
  batch.trades.push_back(TradeRow{sequence, kSymbols[sequence % 2], engine::Price{15025},
                                  engine::Quantity{100}, engine::OrderId{first},
                                  engine::OrderId{first + 1}, engine::UserId{1}, engine::UserId{2},
                                  engine::Side::kSell, 1'700'000'000});
  PositionRow position;
  position.user = engine::UserId{sequence % kUsers + 1};
  position.symbol = kSymbols[sequence % 2];
  position.net = engine::Quantity{static_cast<std::int64_t>(sequence)};
  position.bought = engine::Quantity{static_cast<std::int64_t>(sequence)};
  batch.positions.push_back(position);
  return batch;
}

WriterOptions writer_options(const PostgresServer& server) {
  WriterOptions options;
  options.url = parse(server.url());
  options.reconnect_backoff_min = std::chrono::milliseconds(50);
  options.reconnect_backoff_max = std::chrono::milliseconds(500);
  options.connect_timeout = std::chrono::seconds(2);
  return options;
}

bool wait_for_sequence(const StoreWriter& writer, std::uint64_t sequence,
                       std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (writer.last_written_sequence() < sequence) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Checks every table after batches 1..`batches` were written.
void expect_tables_hold(Connection& db, std::uint64_t batches) {
  const std::int64_t orders = static_cast<std::int64_t>(batches * kOrdersPerBatch);
  EXPECT_EQ(query_number(db, "SELECT count(*) FROM users"), static_cast<std::int64_t>(kUsers));
  EXPECT_EQ(query_number(db, "SELECT count(*) FROM instruments"), 2);
  EXPECT_EQ(query_number(db, "SELECT count(*) FROM orders"), orders);
  EXPECT_EQ(query_number(db, "SELECT min(order_id) FROM orders"), 1);
  EXPECT_EQ(query_number(db, "SELECT max(order_id) FROM orders"), orders);
  EXPECT_EQ(query_number(db, "SELECT count(*) FROM orders WHERE status = 'FILLED'"),
            orders - static_cast<std::int64_t>(kOrdersPerBatch));
  EXPECT_EQ(query_number(db, "SELECT count(*) FROM orders WHERE status = 'QUEUED'"),
            static_cast<std::int64_t>(kOrdersPerBatch));
  EXPECT_EQ(query_number(db, "SELECT count(*) FROM trades"), static_cast<std::int64_t>(batches));
  EXPECT_EQ(query_number(db, "SELECT sum(trade_id) FROM trades"),
            static_cast<std::int64_t>(batches * (batches + 1) / 2));
  EXPECT_EQ(query_number(db, "SELECT count(*) FROM positions"),
            static_cast<std::int64_t>(std::min<std::uint64_t>(batches, 2 * kUsers)));
  EXPECT_EQ(query_number(db, "SELECT max(net_lots) FROM positions"),
            static_cast<std::int64_t>(batches));
  EXPECT_EQ(query_number(db, "SELECT journal_sequence FROM store_progress WHERE sink = 'journal'"),
            static_cast<std::int64_t>(batches));
}

TEST(StoreSchema, CreationIsIdempotent) {
  if (auto reason = PostgresServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("StoreSchema.CreationIsIdempotent", std::chrono::seconds(120));
  PostgresServer server;
  auto db = connect_to(server);

  for (int attempt = 0; attempt < 3; ++attempt) {
    ASSERT_EQ(migrate(*db), "") << "attempt " << attempt;
  }

  std::string error;
  EXPECT_EQ(schema_version(*db, error), std::optional<int>(kSchemaVersion)) << error;
  EXPECT_EQ(query_number(*db, "SELECT count(*) FROM schema_version"), kSchemaVersion);
  for (const char* table :
       {"instruments", "users", "orders", "trades", "positions", "store_progress", "orders_decimal",
        "trades_decimal", "positions_decimal"}) {
    EXPECT_EQ(query_value(*db, std::string("SELECT to_regclass('") + table + "') IS NOT NULL"), "t")
        << table;
  }

  // A writer opened on the migrated database migrates again and keeps the data.
  {
    auto opened = StoreWriter::open(writer_options(server));
    ASSERT_NE(opened.writer, nullptr) << opened.error;
    ASSERT_EQ(opened.writer->submit(make_batch(1)), SubmitStatus::kQueued);
    EXPECT_EQ(opened.writer->close(std::chrono::seconds(30)), 0u);
  }
  auto reopened = StoreWriter::open(writer_options(server));
  ASSERT_NE(reopened.writer, nullptr) << reopened.error;
  EXPECT_EQ(reopened.writer->last_written_sequence(), 1u);
  EXPECT_EQ(query_number(*db, "SELECT count(*) FROM orders"),
            static_cast<std::int64_t>(kOrdersPerBatch));
  EXPECT_EQ(query_number(*db, "SELECT count(*) FROM schema_version"), kSchemaVersion);
}

TEST(StoreSchema, NewerDatabaseVersionIsRejected) {
  if (auto reason = PostgresServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("StoreSchema.NewerDatabaseVersionIsRejected", std::chrono::seconds(120));
  PostgresServer server;
  auto db = connect_to(server);
  ASSERT_EQ(migrate(*db), "");
  ASSERT_TRUE(db->execute("INSERT INTO schema_version (version) VALUES (99)").ok());

  std::string error = migrate(*db);

  EXPECT_NE(error.find("schema version 99, newer than version"), std::string::npos) << error;
}

TEST(StoreWriter, BatchesAppearInTables) {
  if (auto reason = PostgresServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("StoreWriter.BatchesAppearInTables", std::chrono::seconds(120));
  PostgresServer server;
  constexpr std::uint64_t kBatches = 50;

  auto opened = StoreWriter::open(writer_options(server));
  ASSERT_NE(opened.writer, nullptr) << opened.error;
  StoreWriter& writer = *opened.writer;
  EXPECT_EQ(writer.last_written_sequence(), 0u);
  for (std::uint64_t sequence = 1; sequence <= kBatches; ++sequence) {
    ASSERT_EQ(writer.submit(make_batch(sequence)), SubmitStatus::kQueued);
  }
  ASSERT_TRUE(wait_for_sequence(writer, kBatches, std::chrono::seconds(60))) << writer.last_error();

  EXPECT_EQ(writer.last_written_sequence(), kBatches);
  EXPECT_EQ(writer.lag(kBatches + 5), 5u);
  EXPECT_EQ(writer.lag(kBatches), 0u);
  EXPECT_EQ(writer.close(std::chrono::seconds(30)), 0u);
  auto db = connect_to(server);
  expect_tables_hold(*db, kBatches);

  // Exact values: order 12 is filled at 150.25 for 1.00 (tick 0.01, lot 0.01).
  EXPECT_EQ(query_value(*db, "SELECT price::text FROM orders_decimal WHERE order_id = 12"),
            "150.25");
  EXPECT_EQ(query_value(*db,
                        "SELECT filled_quantity::text FROM orders_decimal "
                        "WHERE order_id = 12"),
            "1.00");
  EXPECT_EQ(query_value(*db,
                        "SELECT average_price::text FROM orders_decimal "
                        "WHERE order_id = 12"),
            "150.2500000000000000");
  EXPECT_EQ(query_value(*db, "SELECT client_order_id FROM orders WHERE order_id = 12"),
            "client\t12");
  EXPECT_EQ(query_value(*db, "SELECT client_order_id IS NULL FROM orders WHERE order_id = 10"),
            "t");
  EXPECT_EQ(query_value(*db,
                        "SELECT created_at = timestamptz 'epoch' + interval "
                        "'1700000000 seconds' + interval '12 microseconds' "
                        "FROM orders WHERE order_id = 12"),
            "t");
}

TEST(StoreWriter, RestartResumesFromProgress) {
  if (auto reason = PostgresServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("StoreWriter.RestartResumesFromProgress", std::chrono::seconds(120));
  PostgresServer server;
  {
    auto first = StoreWriter::open(writer_options(server));
    ASSERT_NE(first.writer, nullptr) << first.error;
    for (std::uint64_t sequence = 1; sequence <= 10; ++sequence) {
      ASSERT_EQ(first.writer->submit(make_batch(sequence)), SubmitStatus::kQueued);
    }
    EXPECT_EQ(first.writer->submit(make_batch(10)), SubmitStatus::kOutOfOrder);
    EXPECT_EQ(first.writer->close(std::chrono::seconds(30)), 0u);
    EXPECT_EQ(first.writer->submit(make_batch(11)), SubmitStatus::kClosed);
  }

  auto second = StoreWriter::open(writer_options(server));
  ASSERT_NE(second.writer, nullptr) << second.error;
  EXPECT_EQ(second.writer->last_written_sequence(), 10u);
  EXPECT_EQ(second.writer->submit(make_batch(5)), SubmitStatus::kAlreadyWritten);
  EXPECT_EQ(second.writer->submit(make_batch(10)), SubmitStatus::kAlreadyWritten);
  for (std::uint64_t sequence = 11; sequence <= 20; ++sequence) {
    ASSERT_EQ(second.writer->submit(make_batch(sequence)), SubmitStatus::kQueued);
  }
  EXPECT_EQ(second.writer->close(std::chrono::seconds(30)), 0u);

  auto db = connect_to(server);
  expect_tables_hold(*db, 20);
}

TEST(StoreWriter, OutageDelaysRowsAndLosesNone) {
  if (auto reason = PostgresServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("StoreWriter.OutageDelaysRowsAndLosesNone", std::chrono::seconds(180));
  PostgresServer server;
  constexpr std::uint64_t kBatches = 400;

  auto opened = StoreWriter::open(writer_options(server));
  ASSERT_NE(opened.writer, nullptr) << opened.error;
  StoreWriter& writer = *opened.writer;

  // The engine's side keeps submitting through the outage, one batch every 10 ms.
  std::atomic<std::uint64_t> submitted{0};
  std::thread engine([&] {
    for (std::uint64_t sequence = 1; sequence <= kBatches; ++sequence) {
      EXPECT_EQ(writer.submit(make_batch(sequence)), SubmitStatus::kQueued);
      submitted.store(sequence);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  ASSERT_TRUE(wait_for_sequence(writer, 50, std::chrono::seconds(60))) << writer.last_error();
  ASSERT_TRUE(server.stop().has_value()) << server.log();
  const std::uint64_t written_at_stop = writer.last_written_sequence();
  std::this_thread::sleep_for(std::chrono::seconds(3));

  WriterStats during = writer.stats();
  EXPECT_FALSE(during.connected);
  EXPECT_LE(during.last_written_sequence, written_at_stop + 1)
      << "rows were written while PostgreSQL was down";
  EXPECT_GT(during.queued_batches, 0u);
  EXPECT_NE(writer.last_error(), "");

  server.start();
  engine.join();
  ASSERT_TRUE(wait_for_sequence(writer, kBatches, std::chrono::seconds(60))) << writer.last_error();

  WriterStats after = writer.stats();
  EXPECT_TRUE(after.connected);
  EXPECT_GE(after.reconnects, 1u);
  EXPECT_EQ(after.queued_batches, 0u);
  EXPECT_EQ(after.queued_rows, 0u);
  EXPECT_EQ(writer.last_error(), "");
  EXPECT_EQ(writer.close(std::chrono::seconds(30)), 0u);
  auto db = connect_to(server);
  expect_tables_hold(*db, kBatches);
}

TEST(StoreWriter, FullQueueRejectsWithoutDropping) {
  if (auto reason = PostgresServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("StoreWriter.FullQueueRejectsWithoutDropping", std::chrono::seconds(120));
  PostgresServer server;
  WriterOptions options = writer_options(server);
  const std::size_t rows_per_batch = make_batch(2).row_count();
  options.max_queued_rows = 2 * rows_per_batch;
  auto opened = StoreWriter::open(options);
  ASSERT_NE(opened.writer, nullptr) << opened.error;
  StoreWriter& writer = *opened.writer;
  ASSERT_EQ(writer.submit(make_batch(1)), SubmitStatus::kQueued);
  ASSERT_TRUE(wait_for_sequence(writer, 1, std::chrono::seconds(30))) << writer.last_error();
  ASSERT_TRUE(server.stop().has_value()) << server.log();

  ASSERT_EQ(writer.try_submit(make_batch(2)), SubmitStatus::kQueued);
  ASSERT_EQ(writer.try_submit(make_batch(3)), SubmitStatus::kQueued);
  EXPECT_EQ(writer.try_submit(make_batch(4)), SubmitStatus::kQueueFull);
  EXPECT_EQ(writer.stats().queued_rows, 2 * rows_per_batch);

  // A blocked submit() goes through once the server is back and the queue drains.
  std::thread blocked([&] { EXPECT_EQ(writer.submit(make_batch(4)), SubmitStatus::kQueued); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  server.start();
  blocked.join();
  ASSERT_TRUE(wait_for_sequence(writer, 4, std::chrono::seconds(60))) << writer.last_error();
  EXPECT_EQ(writer.close(std::chrono::seconds(30)), 0u);

  auto db = connect_to(server);
  expect_tables_hold(*db, 4);
}

}  // namespace
}  // namespace hft::store

namespace hft::store {
namespace {

TEST(StoreWriter, DurableSequenceHoldsLaterBatches) {
  if (auto reason = PostgresServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("StoreWriter.DurableSequenceHoldsLaterBatches", std::chrono::seconds(120));
  PostgresServer server;
  auto opened = StoreWriter::open(writer_options(server));
  ASSERT_NE(opened.writer, nullptr) << opened.error;
  StoreWriter& writer = *opened.writer;

  writer.set_durable_sequence(2);
  writer.set_durable_sequence(1);  // a lower limit changes nothing
  for (std::uint64_t sequence = 1; sequence <= 4; ++sequence) {
    ASSERT_EQ(writer.submit(make_batch(sequence)), SubmitStatus::kQueued);
  }
  ASSERT_TRUE(wait_for_sequence(writer, 2, std::chrono::seconds(30))) << writer.last_error();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(writer.last_written_sequence(), 2u);
  EXPECT_EQ(writer.stats().queued_batches, 2u);

  writer.set_durable_sequence(4);
  ASSERT_TRUE(wait_for_sequence(writer, 4, std::chrono::seconds(30))) << writer.last_error();
  EXPECT_EQ(writer.close(std::chrono::seconds(30)), 0u);
  auto db = connect_to(server);
  expect_tables_hold(*db, 4);
}

TEST(StoreWriter, SubmitWithinKeepsBatchWhenFull) {
  if (auto reason = PostgresServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("StoreWriter.SubmitWithinKeepsBatchWhenFull", std::chrono::seconds(120));
  PostgresServer server;
  WriterOptions options = writer_options(server);
  options.max_queued_rows = 1;
  auto opened = StoreWriter::open(options);
  ASSERT_NE(opened.writer, nullptr) << opened.error;
  StoreWriter& writer = *opened.writer;

  // Batch 1 stays queued behind the durable limit, so the queue is full for batch 2.
  writer.set_durable_sequence(0);
  ASSERT_EQ(writer.submit(make_batch(1)), SubmitStatus::kQueued);
  Batch second = make_batch(2);
  const std::size_t rows = second.row_count();
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(writer.submit_within(second, std::chrono::milliseconds(200)), SubmitStatus::kQueueFull);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200));
  EXPECT_EQ(second.row_count(), rows);

  writer.set_durable_sequence(2);
  EXPECT_EQ(writer.submit_within(second, std::chrono::seconds(30)), SubmitStatus::kQueued);
  ASSERT_TRUE(wait_for_sequence(writer, 2, std::chrono::seconds(30))) << writer.last_error();
  EXPECT_EQ(writer.close(std::chrono::seconds(30)), 0u);
}

}  // namespace
}  // namespace hft::store
