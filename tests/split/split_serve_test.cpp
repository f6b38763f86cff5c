// `hft serve --role gateway|engine --queue redis://...` against a real redis-server: two
// gateways and one engine under load, the engine killed with SIGKILL and restarted, a Redis that
// evicts keys, and flag combinations that make no sense. Orders are checked where they end up:
// the engine's journal (counted by its replay at restart), PostgreSQL (--db) and GET on either
// gateway.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gateway/keep_alive_client.h"
#include "postgres_server.h"
#include "redis/connection.h"
#include "redis/redis_url.h"
#include "redis_server.h"
#include "store/connection.h"
#include "store/postgres_url.h"
#include "support.h"
#include "watchdog.h"

namespace hft::split {
namespace {

using gateway::test::json_raw;
using gateway::test::json_string;
using gateway::test::KeepAliveClient;
using test::ChildProcess;
using test::PostgresServer;
using test::RedisServer;
using test::ServerProcess;
using test::TempDir;
using test::Watchdog;
using namespace std::chrono_literals;

constexpr const char* kPassword = "split-test-password";
constexpr auto kCatchUpTimeout = std::chrono::seconds(60);

std::unique_ptr<ServerProcess> start_gateway(const RedisServer& redis) {
  return std::make_unique<ServerProcess>(
      std::vector<std::string>{"--role", "gateway", "--queue", redis.url(), "--threads", "2"});
}

std::unique_ptr<ServerProcess> start_engine(const RedisServer& redis,
                                            std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--role", "engine", "--queue", redis.url(), "--threads", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<ServerProcess>(args);
}

struct Account {
  std::string username;
  std::string token;
};

Account register_user(int port, const std::string& username) {
  KeepAliveClient client(port);
  std::string body = R"({"username":")" + username + R"(","email":")" + username +
                     R"(@example.com","password":")" + kPassword + R"("})";
  auto reply = client.request("POST", "/api/auth/register", body);
  EXPECT_EQ(reply.status, 201) << reply.body;
  return {username, json_string(reply.body, "access_token").value_or("")};
}

// Places LIMIT orders on one gateway until stopped and records the ids acknowledged with 201.
// Prices alternate around 100 so that some orders cross and trade.
class OrderClient {
 public:
  OrderClient(int port, std::string token, std::string symbol)
      : port_(port), token_(std::move(token)), symbol_(std::move(symbol)) {
    thread_ = std::thread([this] { run(); });
  }
  ~OrderClient() { stop(); }

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

  const std::vector<std::uint64_t>& acked() const { return acked_; }
  std::uint64_t failed() const { return failed_; }

 private:
  void run() {
    auto client = std::make_unique<KeepAliveClient>(port_);
    for (int i = 0; !stopping_; ++i) {
      std::string side = i % 2 == 0 ? "BUY" : "SELL";
      std::string price = std::to_string(99 + i % 3);
      std::string body = R"({"symbol":")" + symbol_ + R"(","side":")" + side +
                         R"(","order_type":"LIMIT","quantity":1,"price":)" + price + "}";
      auto reply = client->request("POST", "/api/orders", body, token_);
      if (reply.status == 201) {
        acked_.push_back(std::stoull(json_raw(reply.body, "id").value_or("0")));
        continue;
      }
      ++failed_;
      if (reply.status == 0) client = std::make_unique<KeepAliveClient>(port_);
      std::this_thread::sleep_for(10ms);
    }
  }

  int port_;
  std::string token_;
  std::string symbol_;
  std::atomic<bool> stopping_{false};
  std::vector<std::uint64_t> acked_;
  std::uint64_t failed_ = 0;
  std::thread thread_;
};

// One `hft load` client in open loop against one gateway, its output in `dir`.
class LoadClient {
 public:
  LoadClient(int port, int client_id, int duration_s, const std::filesystem::path& dir)
      : output_(dir / ("load-" + std::to_string(client_id) + ".out")) {
    ChildProcess::Options options;
    options.args = {test::hft_binary(), "load",
                    "--api-url",        "http://127.0.0.1:" + std::to_string(port),
                    "--client-id",      std::to_string(client_id),
                    "--duration",       std::to_string(duration_s),
                    "--rate",           "500",
                    "--connections",    "4",
                    "--timeout-ms",     "20000"};
    options.stdout_mode = ChildProcess::Output::kFile;
    options.stdout_path = output_;
    options.stderr_mode = ChildProcess::Output::kFile;
    options.stderr_path = dir / ("load-" + std::to_string(client_id) + ".err");
    process_ = std::make_unique<ChildProcess>(options);
  }

  // orders_success from the client's JSON line; nullopt when it did not finish or print one.
  std::optional<std::uint64_t> orders_success() {
    if (!process_->wait_for_exit(60s)) return std::nullopt;
    std::string text = test::read_file(output_);
    auto line = text.find("JSON:");
    if (line == std::string::npos) return std::nullopt;
    std::string json = text.substr(line, text.find('\n', line) - line);
    auto value = json_raw(json, "orders_success");
    if (!value) return std::nullopt;
    return std::stoull(*value);
  }

  std::string output() const { return test::read_file(output_); }

 private:
  std::filesystem::path output_;
  std::unique_ptr<ChildProcess> process_;
};

// Waits until the engine has read, journaled and acknowledged everything in Redis (and, with
// --db, written it to PostgreSQL).
bool wait_for_engine_caught_up(int engine_port, bool with_db) {
  auto deadline = std::chrono::steady_clock::now() + kCatchUpTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    test::HttpResponse health = test::http_request(engine_port, "GET", "/health");
    bool caught_up = health.status == 200 && json_raw(health.body, "redis_pending") == "0" &&
                     json_raw(health.body, "redis_consumer_lag") == "0" &&
                     json_raw(health.body, "queue_depth") == "0" &&
                     (!with_db || json_raw(health.body, "db_lag") == "0");
    if (caught_up) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

// The order count of the last journal replay in a server log; -1 when there is none.
std::int64_t replayed_orders(const std::string& log) {
  static const std::regex kReplay("journal replayed .* ([0-9]+) orders, [0-9]+ cancels");
  std::int64_t count = -1;
  for (std::sregex_iterator it(log.begin(), log.end(), kReplay), end; it != end; ++it) {
    count = std::stoll((*it)[1].str());
  }
  return count;
}

// Waits until GET /api/orders/{id} on `port` shows every id in a state past QUEUED, which means
// the engine processed it and the gateway applied the engine's state. Returns the ids that
// never got there (at most 5 reported by the caller).
std::vector<std::uint64_t> ids_not_processed(int port, const std::string& token,
                                             const std::vector<std::uint64_t>& ids) {
  KeepAliveClient client(port);
  std::vector<std::uint64_t> missing;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  for (std::uint64_t id : ids) {
    while (true) {
      auto reply = client.request("GET", "/api/orders/" + std::to_string(id), {}, token);
      std::string status = json_string(reply.body, "status").value_or("missing");
      if (reply.status == 200 && status != "QUEUED") break;
      if (std::chrono::steady_clock::now() > deadline) {
        missing.push_back(id);
        break;
      }
      std::this_thread::sleep_for(50ms);
    }
  }
  return missing;
}

std::int64_t query_number(const PostgresServer& postgres, const std::string& sql) {
  store::PostgresUrlResult url = store::parse_postgres_url(postgres.url());
  if (!url.ok()) throw std::runtime_error(url.error);
  store::ConnectResult connected = store::Connection::connect(*url.url, 5s);
  if (!connected.connection) throw std::runtime_error(connected.error);
  store::Outcome outcome = connected.connection->execute(sql);
  if (!outcome.ok()) throw std::runtime_error(outcome.error);
  if (PQntuples(outcome.result.get()) != 1) throw std::runtime_error("not one row: " + sql);
  return std::stoll(PQgetvalue(outcome.result.get(), 0, 0));
}

// The value of an unlabelled metric in /metrics text; "missing" when absent.
std::string metric_value(const std::string& metrics, const std::string& name) {
  std::string key = "\n" + name + " ";
  auto at = metrics.find(key);
  if (at == std::string::npos) return "missing";
  return metrics.substr(at + key.size(), metrics.find('\n', at + key.size()) - at - key.size());
}

std::string id_list(const std::vector<std::uint64_t>& ids) {
  std::string out;
  for (std::uint64_t id : ids) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
  }
  return out;
}

class SplitServe : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto missing = RedisServer::missing_binary()) GTEST_SKIP() << *missing;
  }
};

TEST_F(SplitServe, TwoGatewaysOneEngineUnderLoad) {
  if (auto missing = PostgresServer::missing_binary()) GTEST_SKIP() << *missing;
  Watchdog watchdog("SplitServe.TwoGatewaysOneEngineUnderLoad", 150s);
  RedisServer redis;
  PostgresServer postgres;
  auto engine = start_engine(redis, {"--db", postgres.url()});
  auto gateway_a = start_gateway(redis);
  auto gateway_b = start_gateway(redis);

  // An account made on A works on B at once: login, and the token from A.
  Account account = register_user(gateway_a->port(), "split-user");
  {
    KeepAliveClient client_b(gateway_b->port());
    std::string login =
        R"({"username":"split-user","password":")" + std::string(kPassword) + R"("})";
    auto reply = client_b.request("POST", "/api/auth/login", login);
    EXPECT_EQ(reply.status, 200) << reply.body;
    auto list = client_b.request("GET", "/api/orders", {}, account.token);
    EXPECT_EQ(list.status, 200) << list.body;
    auto duplicate = client_b.request(
        "POST", "/api/auth/register",
        R"({"username":"split-user","email":"x@example.com","password":"other-password"})");
    EXPECT_EQ(duplicate.status, 409) << duplicate.body;
  }

  // One `hft load` per gateway, and the recording client on each gateway with one token.
  TempDir load_dir;
  LoadClient load_a(gateway_a->port(), 1, 3, load_dir.path());
  LoadClient load_b(gateway_b->port(), 2, 3, load_dir.path());
  OrderClient orders_a(gateway_a->port(), account.token, "SPLIT");
  OrderClient orders_b(gateway_b->port(), account.token, "SPLIT");
  std::optional<std::uint64_t> load_acked_a = load_a.orders_success();
  std::optional<std::uint64_t> load_acked_b = load_b.orders_success();
  orders_a.stop();
  orders_b.stop();
  ASSERT_TRUE(load_acked_a.has_value()) << load_a.output();
  ASSERT_TRUE(load_acked_b.has_value()) << load_b.output();
  EXPECT_GT(*load_acked_a, 0u);
  EXPECT_GT(*load_acked_b, 0u);

  std::vector<std::uint64_t> acked = orders_a.acked();
  acked.insert(acked.end(), orders_b.acked().begin(), orders_b.acked().end());
  ASSERT_FALSE(acked.empty());
  std::set<std::uint64_t> unique(acked.begin(), acked.end());
  EXPECT_EQ(unique.size(), acked.size()) << "two gateways acknowledged the same id";
  EXPECT_EQ(orders_a.failed() + orders_b.failed(), 0u);

  ASSERT_TRUE(wait_for_engine_caught_up(engine->port(), true)) << engine->log();

  // Every acknowledged order is readable with the same token on both gateways.
  for (auto* gateway : {gateway_a.get(), gateway_b.get()}) {
    auto missing = ids_not_processed(gateway->port(), account.token, acked);
    EXPECT_TRUE(missing.empty()) << missing.size() << " orders not processed, first "
                                 << missing.front() << "\n"
                                 << gateway->log();
  }

  // /metrics: the producer on a gateway, which has no journal; the queue and the sink's lag on
  // the engine.
  std::string gateway_metrics = test::http_request(gateway_a->port(), "GET", "/metrics").body;
  EXPECT_NE(metric_value(gateway_metrics, "hft_redis_producer_accepted_total"), "missing");
  EXPECT_NE(metric_value(gateway_metrics, "hft_redis_pending"), "missing");
  EXPECT_EQ(metric_value(gateway_metrics, "hft_journal_records_total"), "missing");
  std::string engine_metrics = test::http_request(engine->port(), "GET", "/metrics").body;
  EXPECT_EQ(metric_value(engine_metrics, "hft_redis_pending"), "0");
  EXPECT_EQ(metric_value(engine_metrics, "hft_redis_consumer_lag"), "0");
  EXPECT_EQ(metric_value(engine_metrics, "hft_db_lag"), "0");
  EXPECT_NE(metric_value(engine_metrics, "hft_journal_records_total"), "missing");

  // PostgreSQL contains each acknowledged order once (order_id is its key) and nothing else.
  std::uint64_t acked_total = acked.size() + *load_acked_a + *load_acked_b;
  std::int64_t stored = query_number(postgres, "SELECT count(*) FROM orders");
  EXPECT_EQ(query_number(postgres,
                         "SELECT count(*) FROM orders WHERE order_id IN (" + id_list(acked) + ")"),
            static_cast<std::int64_t>(acked.size()));
  EXPECT_EQ(stored, static_cast<std::int64_t>(acked_total));
  EXPECT_EQ(query_number(postgres, "SELECT count(*) FROM users WHERE username = 'split-user'"), 1);

  // The journal contains each order once: a restarted engine replays as many as PostgreSQL has.
  ASSERT_EQ(engine->stop(), 0) << engine->log();
  engine->restart();
  EXPECT_EQ(replayed_orders(engine->log()), stored) << engine->log();
}

TEST_F(SplitServe, EngineKilledMidLoadLosesNothing) {
  Watchdog watchdog("SplitServe.EngineKilledMidLoadLosesNothing", 120s);
  RedisServer redis;
  auto engine = start_engine(redis);
  auto gateway_a = start_gateway(redis);
  auto gateway_b = start_gateway(redis);
  Account account = register_user(gateway_a->port(), "kill-user");

  OrderClient orders_a(gateway_a->port(), account.token, "KILL");
  OrderClient orders_b(gateway_b->port(), account.token, "KILL");
  std::this_thread::sleep_for(1500ms);
  engine->kill();
  // The gateways keep acknowledging while the engine is down, because Redis stores the orders.
  std::this_thread::sleep_for(500ms);
  engine->restart();
  std::this_thread::sleep_for(1500ms);
  orders_a.stop();
  orders_b.stop();

  std::vector<std::uint64_t> acked = orders_a.acked();
  acked.insert(acked.end(), orders_b.acked().begin(), orders_b.acked().end());
  ASSERT_FALSE(acked.empty());
  EXPECT_EQ(orders_a.failed() + orders_b.failed(), 0u);
  ASSERT_TRUE(wait_for_engine_caught_up(engine->port(), false)) << engine->log();

  test::HttpResponse metrics = test::http_request(engine->port(), "GET", "/metrics");
  std::cout << "acknowledged " << acked.size() << " orders; the restarted engine skipped "
            << metric_value(metrics.body, "hft_redis_entries_skipped_total")
            << " entries it had journaled before the kill\n";

  auto missing = ids_not_processed(gateway_b->port(), account.token, acked);
  EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged orders lost, first "
                               << missing.front() << "\n"
                               << engine->log();

  // Nothing applied twice: the journal contains exactly the acknowledged orders.
  ASSERT_EQ(engine->stop(), 0) << engine->log();
  engine->restart();
  EXPECT_EQ(replayed_orders(engine->log()), static_cast<std::int64_t>(acked.size()))
      << engine->log();
}

TEST_F(SplitServe, RedisOutOfMemoryAnswers503) {
  Watchdog watchdog("SplitServe.RedisOutOfMemoryAnswers503", 60s);
  RedisServer redis({"--maxmemory-policy", "noeviction"});
  auto gateway = start_gateway(redis);
  Account account = register_user(gateway->port(), "oom-user");
  KeepAliveClient client(gateway->port());
  const std::string order =
      R"({"symbol":"OOM","side":"BUY","order_type":"LIMIT","quantity":1,"price":10})";
  // The first order also reserves a block of ids, so the next one needs only its XADD.
  auto first = client.request("POST", "/api/orders", order, account.token);
  ASSERT_EQ(first.status, 201) << first.body;

  // A memory limit below what Redis uses makes it reject every write with OOM. Filling it with
  // data instead is not reliable: freeing a rejected command's buffer can make room again.
  redis::RedisUrlResult url = redis::parse_redis_url(redis.url());
  ASSERT_TRUE(url.ok()) << url.error;
  redis::ConnectResult connected = redis::Connection::connect(*url.url, 5s);
  ASSERT_TRUE(connected.connection) << connected.error;
  redis::Reply limited = connected.connection->command({"CONFIG", "SET", "maxmemory", "1"});
  ASSERT_TRUE(limited) << connected.connection->error();
  ASSERT_EQ(limited->type, REDIS_REPLY_STATUS) << redis::reply_text(*limited);

  auto reply = client.request("POST", "/api/orders", order, account.token);
  EXPECT_EQ(reply.status, 503) << reply.body;
  EXPECT_EQ(reply.headers["retry-after"], "1");
  EXPECT_EQ(json_string(reply.body, "error"), "unavailable") << reply.body;
  EXPECT_NE(reply.body.find("OOM"), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("Redis is full"), std::string::npos) << reply.body;

  // Three failed publications in a row make /health unhealthy, with the last XADD error.
  for (int i = 0; i < 2; ++i) {
    auto again = client.request("POST", "/api/orders", order, account.token);
    EXPECT_EQ(again.status, 503) << again.body;
  }
  auto health = test::http_request(gateway->port(), "GET", "/health");
  EXPECT_EQ(health.status, 503) << health.body;
  EXPECT_NE(json_string(health.body, "redis_publish_error").value_or("").find("OOM"),
            std::string::npos)
      << health.body;
  std::string metrics = test::http_request(gateway->port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("reason=\"queue_unavailable\"} 3\n"), std::string::npos) << metrics;

  // Registration reports a full store, not an unreachable one.
  auto registered = client.request(
      "POST", "/api/auth/register",
      R"({"username":"oom-late","email":"oom-late@example.com","password":"oom-password"})");
  EXPECT_EQ(registered.status, 503) << registered.body;
  EXPECT_NE(registered.body.find("is full"), std::string::npos) << registered.body;

  // The rejected order is not left QUEUED on the gateway: only the first one is listed.
  auto list = client.request("GET", "/api/orders", {}, account.token);
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(json_raw(list.body, "id"), json_raw(first.body, "id")) << list.body;
  EXPECT_EQ(list.body.find("},{"), std::string::npos) << list.body;
}

TEST_F(SplitServe, EvictingRedisIsRejected) {
  Watchdog watchdog("SplitServe.EvictingRedisIsRejected", 60s);
  RedisServer redis({"--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"});
  TempDir dir;
  for (std::string role : {"gateway", "engine"}) {
    std::filesystem::path log = dir.path() / (role + ".log");
    ChildProcess::Options options;
    options.args = {test::hft_binary(), "serve",     "--role",     role,
                    "--queue",          redis.url(), "--port",     "0",
                    "--host",           "127.0.0.1", "--data-dir", (dir.path() / role).string()};
    options.stdout_mode = ChildProcess::Output::kFile;
    options.stderr_mode = ChildProcess::Output::kFile;
    options.stdout_path = log;
    options.stderr_path = log;
    ChildProcess process(options);
    std::optional<int> code = process.wait_for_exit(20s);
    ASSERT_TRUE(code.has_value()) << role;
    EXPECT_EQ(*code, 1) << role;
    std::string output = test::read_file(log);
    EXPECT_NE(output.find("allkeys-lru"), std::string::npos) << role << ": " << output;
    EXPECT_NE(output.find("noeviction"), std::string::npos) << role << ": " << output;
    EXPECT_NE(output.find(redis.url()), std::string::npos) << role << ": " << output;
  }
}

TEST(SplitServeFlags, BadCombinationsExitWithUsageError) {
  Watchdog watchdog("SplitServeFlags.BadCombinationsExitWithUsageError", 60s);
  struct Case {
    std::vector<std::string> args;
    std::string expected;  // part of the error message
  };
  const std::vector<Case> cases = {
      {{"--role", "gateway"}, "needs --queue"},
      {{"--role", "engine"}, "needs --queue"},
      {{"--queue", "redis://127.0.0.1:1/0"}, "needs --role gateway or --role engine"},
      {{"--role", "gateway", "--queue", "http://127.0.0.1:1"}, "--queue (REDIS_URL)"},
      {{"--role", "gateway", "--queue", "redis://127.0.0.1:1/0", "--db",
        "postgresql://u:p@127.0.0.1:1/d"},
       "--db (DATABASE_URL) belongs to the engine"},
  };
  TempDir dir;
  int index = 0;
  for (const Case& test_case : cases) {
    std::filesystem::path log = dir.path() / ("case-" + std::to_string(index++) + ".log");
    ChildProcess::Options options;
    options.args = {
        test::hft_binary(), "serve", "--port", "0", "--data-dir", (dir.path() / "data").string()};
    options.args.insert(options.args.end(), test_case.args.begin(), test_case.args.end());
    options.stdout_mode = ChildProcess::Output::kFile;
    options.stderr_mode = ChildProcess::Output::kFile;
    options.stdout_path = log;
    options.stderr_path = log;
    ChildProcess process(options);
    std::optional<int> code = process.wait_for_exit(10s);
    ASSERT_TRUE(code.has_value()) << test_case.expected;
    EXPECT_EQ(*code, 2) << test_case.expected;
    std::string output = test::read_file(log);
    EXPECT_NE(output.find(test_case.expected), std::string::npos) << output;
  }
}

}  // namespace
}  // namespace hft::split
