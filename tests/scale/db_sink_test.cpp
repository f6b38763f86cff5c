// The PostgreSQL sink of `hft serve` (--db) against a real PostgreSQL 15 and a real server under
// load from `hft load`: every acknowledged order arrives exactly once, with the state that
// GET /api/orders/{id} shows, also across an outage of PostgreSQL and a SIGKILL of the server
// while PostgreSQL is down.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/keep_alive_client.h"
#include "postgres_server.h"
#include "store/connection.h"
#include "store/postgres_url.h"
#include "support.h"
#include "watchdog.h"

namespace hft::scale {
namespace {

using gateway::test::json_raw;
using gateway::test::json_string;
using gateway::test::KeepAliveClient;
using test::ChildProcess;
using test::PostgresServer;
using test::ServerProcess;
using test::TempDir;
using test::Watchdog;

// The password `hft load` registers its users with.
constexpr const char* kLoadPassword = "load-test-password-1";
constexpr int kClients = 2;
constexpr int kRatePerClient = 1000;  // orders/s, open loop, so a slow machine sends the same
constexpr auto kCatchUpTimeout = std::chrono::seconds(90);

std::unique_ptr<store::Connection> connect_to(const PostgresServer& server) {
  store::PostgresUrlResult url = store::parse_postgres_url(server.url());
  if (!url.ok()) throw std::runtime_error(url.error);
  store::ConnectResult result = store::Connection::connect(*url.url, std::chrono::seconds(5));
  if (!result.connection) throw std::runtime_error(result.error);
  return std::move(result.connection);
}

// Every row of a query, each as its columns' text.
std::vector<std::vector<std::string>> query_rows(store::Connection& connection,
                                                 const std::string& sql) {
  store::Outcome outcome = connection.execute(sql);
  if (!outcome.ok()) throw std::runtime_error(outcome.error);
  PGresult* result = outcome.result.get();
  std::vector<std::vector<std::string>> rows(PQntuples(result));
  for (int row = 0; row < PQntuples(result); ++row) {
    for (int column = 0; column < PQnfields(result); ++column) {
      rows[row].emplace_back(PQgetvalue(result, row, column));
    }
  }
  return rows;
}

std::int64_t query_number(store::Connection& connection, const std::string& sql) {
  auto rows = query_rows(connection, sql);
  if (rows.size() != 1 || rows[0].size() != 1) throw std::runtime_error("not one value: " + sql);
  return std::stoll(rows[0][0]);
}

// One `hft load` process in open loop, its stdout in a file.
class LoadClient {
 public:
  LoadClient(int port, int client_id, int duration_s, int timeout_ms,
             const std::filesystem::path& dir)
      : client_id_(client_id), output_(dir / ("load-" + std::to_string(client_id) + ".out")) {
    ChildProcess::Options options;
    options.args = {test::hft_binary(), "load",
                    "--api-url",        "http://127.0.0.1:" + std::to_string(port),
                    "--client-id",      std::to_string(client_id),
                    "--duration",       std::to_string(duration_s),
                    "--rate",           std::to_string(kRatePerClient),
                    "--connections",    "4",
                    "--timeout-ms",     std::to_string(timeout_ms)};
    options.stdout_mode = ChildProcess::Output::kFile;
    options.stdout_path = output_;
    options.stderr_mode = ChildProcess::Output::kFile;
    options.stderr_path = dir / ("load-" + std::to_string(client_id) + ".err");
    process_ = std::make_unique<ChildProcess>(options);
  }

  // Waits for the client to exit and returns its orders_success; nullopt when it did not finish
  // or printed no result line.
  std::optional<std::uint64_t> orders_success(std::chrono::seconds timeout) {
    if (!process_->wait_for_exit(timeout)) return std::nullopt;
    std::string text = test::read_file(output_);
    std::smatch match;
    static const std::regex kSuccess("\"orders_success\":([0-9]+)");
    auto line = text.find("JSON:");
    if (line == std::string::npos) return std::nullopt;
    std::string json = text.substr(line, text.find('\n', line) - line);
    if (!std::regex_search(json, match, kSuccess)) return std::nullopt;
    return std::stoull(match[1].str());
  }

  int client_id() const { return client_id_; }
  std::string output() const { return test::read_file(output_); }

 private:
  int client_id_;
  std::filesystem::path output_;
  std::unique_ptr<ChildProcess> process_;
};

// Orders acknowledged per client id, read from each client's result line.
using AckedOrders = std::map<int, std::uint64_t>;

AckedOrders finish_clients(std::vector<std::unique_ptr<LoadClient>>& clients) {
  AckedOrders acked;
  for (auto& client : clients) {
    auto success = client->orders_success(std::chrono::seconds(60));
    EXPECT_TRUE(success.has_value()) << "client " << client->client_id() << " printed no result:\n"
                                     << client->output();
    acked[client->client_id()] = success.value_or(0);
  }
  return acked;
}

// The default reply timeout is long, so that no order is acknowledged after its client gave up.
std::vector<std::unique_ptr<LoadClient>> start_clients(int port, int duration_s,
                                                       const std::filesystem::path& dir,
                                                       int timeout_ms = 20'000) {
  std::vector<std::unique_ptr<LoadClient>> clients;
  for (int id = 1; id <= kClients; ++id) {
    clients.push_back(std::make_unique<LoadClient>(port, id, duration_s, timeout_ms, dir));
  }
  return clients;
}

// Waits until the queue is empty and PostgreSQL has every journaled row (db_lag 0).
bool wait_for_store_caught_up(int port, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    test::HttpResponse health = test::http_request(port, "GET", "/health");
    if (health.status == 200 && json_raw(health.body, "db_lag") == "0" &&
        json_raw(health.body, "queue_depth") == "0" &&
        json_raw(health.body, "db_connected") == "true") {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// The value of an unlabelled metric in GET /metrics; -1 when it is missing.
double metric_value(int port, const std::string& name) {
  test::HttpResponse metrics = test::http_request(port, "GET", "/metrics");
  std::string key = "\n" + name + " ";
  auto at = metrics.body.find(key);
  if (at == std::string::npos) return -1;
  return std::stod(metrics.body.substr(at + key.size()));
}

// The client id in a username of `hft load`: "load-<client id>-<pid>-<ms>".
int load_client_id(const std::string& username) {
  static const std::regex kName("load-([0-9]+)-.*");
  std::smatch match;
  if (!std::regex_match(username, match, kName)) return -1;
  return std::stoi(match[1].str());
}

// Whether every order the server holds was acknowledged to its client. A server that stalls
// while a client finishes also holds orders whose replies came after the client gave up.
enum class Replies : bool { kAllReceived, kSomeAbandoned };

// Checks that PostgreSQL contains every order the server holds once (and with kAllReceived,
// exactly the acknowledged ones), each in the state the API shows, every trade the engine
// counted, and the positions the API shows.
void expect_store_matches_server(PostgresServer& postgres, int port, const AckedOrders& acked,
                                 Replies replies = Replies::kAllReceived) {
  auto db = connect_to(postgres);

  // Every order once (order_id is the key), and per client the acknowledged ones.
  std::uint64_t acked_total = 0;
  for (const auto& [client, count] : acked) acked_total += count;
  EXPECT_GT(acked_total, 0u);
  std::int64_t stored_total = query_number(*db, "SELECT count(*) FROM orders");
  EXPECT_EQ(static_cast<double>(stored_total), metric_value(port, "hft_orders_stored"));
  AckedOrders stored;
  for (const auto& row : query_rows(*db,
                                    "SELECT u.username, count(*) FROM orders o JOIN users u "
                                    "USING (user_id) GROUP BY u.username")) {
    stored[load_client_id(row[0])] += std::stoull(row[1]);
  }
  if (replies == Replies::kAllReceived) {
    EXPECT_EQ(stored_total, static_cast<std::int64_t>(acked_total));
    EXPECT_EQ(stored, acked);
  } else {
    for (const auto& [client, count] : acked) {
      EXPECT_GE(stored[client], count) << "client " << client;
    }
  }

  // Each order's status and filled quantity as GET /api/orders/{id} shows them (lot size 1).
  KeepAliveClient client(port);
  ASSERT_TRUE(client.connected());
  std::map<std::string, std::string> tokens;
  auto token_of = [&](const std::string& username) {
    auto found = tokens.find(username);
    if (found != tokens.end()) return found->second;
    std::string body =
        R"({"username":")" + username + R"(","password":")" + kLoadPassword + R"("})";
    auto reply = client.request("POST", "/api/auth/login", body);
    std::string token = json_string(reply.body, "access_token").value_or("");
    tokens[username] = token;
    return token;
  };
  std::size_t mismatches = 0;
  std::size_t checked = 0;
  for (const auto& row : query_rows(*db,
                                    "SELECT o.order_id, u.username, o.status, o.filled_lots "
                                    "FROM orders o JOIN users u USING (user_id) ORDER BY 1")) {
    auto reply = client.request("GET", "/api/orders/" + row[0], {}, token_of(row[1]));
    ++checked;
    std::string status = json_string(reply.body, "status").value_or("missing");
    std::string filled = json_raw(reply.body, "filled_quantity").value_or("missing");
    if (reply.status == 200 && status == row[2] && filled == row[3]) continue;
    if (++mismatches <= 5) {
      ADD_FAILURE() << "order " << row[0] << ": PostgreSQL has " << row[2] << " filled " << row[3]
                    << ", the API " << reply.status << " " << reply.body;
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << checked << " orders";

  // Every trade (ids are the engine's sequence 1, 2, ..., which replay rebuilds), and each
  // user's positions as GET /api/positions shows them.
  std::int64_t trades = query_number(*db, "SELECT count(*) FROM trades");
  EXPECT_GT(trades, 0);
  EXPECT_EQ(query_number(*db, "SELECT max(trade_id) FROM trades"), trades);
  EXPECT_EQ(static_cast<double>(trades), metric_value(port, "hft_trades_total"));
  simdjson::dom::parser parser;
  for (const auto& user : query_rows(*db, "SELECT username FROM users")) {
    auto reply = client.request("GET", "/api/positions", {}, token_of(user[0]));
    ASSERT_EQ(reply.status, 200) << reply.body;
    std::map<std::string, std::string> api_positions;
    for (simdjson::dom::element position : parser.parse(reply.body).get_array()) {
      std::string_view symbol = position["symbol"].get_string();
      api_positions[std::string(symbol)] = simdjson::minify(position["quantity"]);
    }
    std::map<std::string, std::string> stored_positions;
    for (const auto& row : query_rows(*db,
                                      "SELECT p.symbol, p.net_lots FROM positions p JOIN "
                                      "users u USING (user_id) WHERE u.username = '" +
                                          user[0] + "'")) {
      stored_positions[row[0]] = row[1];
    }
    EXPECT_EQ(stored_positions, api_positions) << "positions of " << user[0];
  }
}

class DbSink : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto missing = PostgresServer::missing_binary()) GTEST_SKIP() << *missing;
    postgres_ = std::make_unique<PostgresServer>();
  }

  std::vector<std::string> server_args() const {
    return {"--db", postgres_->url(), "--log-level", "info"};
  }

  std::unique_ptr<PostgresServer> postgres_;
  TempDir client_dir_;
};

TEST_F(DbSink, LoadRowsMatchApi) {
  Watchdog watchdog("DbSink.LoadRowsMatchApi", std::chrono::seconds(200));
  ServerProcess server(server_args());

  auto clients = start_clients(server.port(), 4, client_dir_.path());
  AckedOrders acked = finish_clients(clients);

  ASSERT_TRUE(wait_for_store_caught_up(server.port(), kCatchUpTimeout)) << server.log();
  expect_store_matches_server(*postgres_, server.port(), acked);
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(DbSink, PostgresOutageMidLoad) {
  Watchdog watchdog("DbSink.PostgresOutageMidLoad", std::chrono::seconds(240));
  ServerProcess server(server_args());

  auto clients = start_clients(server.port(), 8, client_dir_.path());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_TRUE(postgres_->stop().has_value()) << postgres_->log();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  test::HttpResponse during = test::http_request(server.port(), "GET", "/health");
  EXPECT_EQ(during.status, 200) << during.body;
  EXPECT_EQ(json_raw(during.body, "db_connected"), "false") << during.body;
  postgres_->start();
  AckedOrders acked = finish_clients(clients);

  ASSERT_TRUE(wait_for_store_caught_up(server.port(), kCatchUpTimeout)) << server.log();
  expect_store_matches_server(*postgres_, server.port(), acked);
  EXPECT_GE(metric_value(server.port(), "hft_db_reconnects_total"), 1.0);
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(DbSink, ServerKilledWhilePostgresDown) {
  Watchdog watchdog("DbSink.ServerKilledWhilePostgresDown", std::chrono::seconds(240));
  ServerProcess server(server_args());

  auto clients = start_clients(server.port(), 4, client_dir_.path());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ASSERT_TRUE(postgres_->stop().has_value()) << postgres_->log();
  AckedOrders acked = finish_clients(clients);
  test::HttpResponse before_kill = test::http_request(server.port(), "GET", "/health");
  EXPECT_NE(json_raw(before_kill.body, "db_lag"), "0") << before_kill.body;
  server.kill();

  postgres_->start();
  server.restart();
  ASSERT_TRUE(wait_for_store_caught_up(server.port(), kCatchUpTimeout)) << server.log();
  EXPECT_NE(server.log().find("journal records after sequence"), std::string::npos) << server.log();
  expect_store_matches_server(*postgres_, server.port(), acked);
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(DbSink, StopWhileWriterQueueFull) {
  Watchdog watchdog("DbSink.StopWhileWriterQueueFull", std::chrono::seconds(240));
  std::vector<std::string> args = server_args();
  args.insert(args.end(), {"--db-max-queued-rows", "500"});
  ServerProcess server(args);

  ASSERT_TRUE(postgres_->stop().has_value()) << postgres_->log();
  auto clients = start_clients(server.port(), 3, client_dir_.path(), 2000);
  AckedOrders acked = finish_clients(clients);
  EXPECT_GT(metric_value(server.port(), "hft_db_queue_full_waits_total"), 0.0);

  // The worker waits for the writer's queue; a stop must not wait for PostgreSQL.
  auto stop_start = std::chrono::steady_clock::now();
  EXPECT_EQ(server.stop(std::chrono::seconds(30)), 0) << server.log();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_start, std::chrono::seconds(20));

  postgres_->start();
  server.restart();
  ASSERT_TRUE(wait_for_store_caught_up(server.port(), kCatchUpTimeout)) << server.log();
  expect_store_matches_server(*postgres_, server.port(), acked, Replies::kSomeAbandoned);
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(DbSink, DatabaseAheadOfJournalStopsStart) {
  Watchdog watchdog("DbSink.DatabaseAheadOfJournalStopsStart", std::chrono::seconds(120));
  {
    ServerProcess server(server_args());
    auto reply = test::http_request(
        server.port(), "POST", "/api/auth/register",
        R"({"username":"first","email":"first@example.com","password":"first-password-1"})",
        {{"Content-Type", "application/json"}});
    ASSERT_EQ(reply.status, 201) << reply.body;
    ASSERT_TRUE(wait_for_store_caught_up(server.port(), kCatchUpTimeout)) << server.log();
    ASSERT_EQ(server.stop(), 0) << server.log();
  }

  // A new data dir has an empty journal, while the database has rows up to sequence 1.
  TempDir fresh;
  ChildProcess::Options options;
  options.args = {test::hft_binary(),
                  "serve",
                  "--host",
                  "127.0.0.1",
                  "--port",
                  std::to_string(test::free_tcp_port()),
                  "--data-dir",
                  (fresh.path() / "data").string(),
                  "--db",
                  postgres_->url()};
  options.stderr_mode = ChildProcess::Output::kFile;
  options.stderr_path = fresh.path() / "server.log";
  ChildProcess second(options);
  EXPECT_EQ(second.wait_for_exit(std::chrono::seconds(30)), 1);
  std::string log = test::read_file(fresh.path() / "server.log");
  EXPECT_NE(log.find("up to journal sequence 1"), std::string::npos) << log;
  EXPECT_NE(log.find("not starting"), std::string::npos) << log;
}

TEST(DbSinkStart, UnreachableDatabaseStopsStart) {
  Watchdog watchdog("DbSinkStart.UnreachableDatabaseStopsStart", std::chrono::seconds(60));
  TempDir dir;
  int db_port = test::free_tcp_port();
  ChildProcess::Options options;
  options.args = {test::hft_binary(),
                  "serve",
                  "--host",
                  "127.0.0.1",
                  "--port",
                  std::to_string(test::free_tcp_port()),
                  "--data-dir",
                  (dir.path() / "data").string(),
                  "--db",
                  "postgresql://hft:secret-word@127.0.0.1:" + std::to_string(db_port) + "/hft"};
  options.stderr_mode = ChildProcess::Output::kFile;
  options.stderr_path = dir.path() / "server.log";
  ChildProcess server(options);

  EXPECT_EQ(server.wait_for_exit(std::chrono::seconds(30)), 1);
  std::string log = test::read_file(dir.path() / "server.log");
  EXPECT_NE(log.find("127.0.0.1:" + std::to_string(db_port)), std::string::npos) << log;
  EXPECT_NE(log.find("not starting"), std::string::npos) << log;
  EXPECT_EQ(log.find("secret-word"), std::string::npos) << log;
}

}  // namespace
}  // namespace hft::scale
