// A gateway (`hft serve --role gateway`) while its Redis is stopped with SIGTERM and started
// again on the same port and data folder. Tokens, registrations and order id blocks work again
// at once. While Redis is stopped, an order gets a fast 503 instead of a client timeout, and the
// gateway still stops promptly. No engine runs, so the gateways only publish to Redis.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gateway/keep_alive_client.h"
#include "redis/id_blocks.h"
#include "redis/redis_url.h"
#include "redis_server.h"
#include "support.h"
#include "watchdog.h"

namespace hft::split {
namespace {

using gateway::test::json_raw;
using gateway::test::json_string;
using gateway::test::KeepAliveClient;
using test::ServerProcess;
using test::Watchdog;
using namespace std::chrono_literals;

// Redis runs with its append-only file synced on every write, so accounts and ids survive the
// restart.
const std::vector<std::string> kPersistentRedis = {"--appendonly", "yes", "--appendfsync",
                                                   "always"};

constexpr const char* kOrder =
    R"({"symbol":"RST","side":"BUY","order_type":"LIMIT","quantity":1,"price":10})";

std::unique_ptr<ServerProcess> start_gateway(const test::RedisServer& redis) {
  return std::make_unique<ServerProcess>(
      std::vector<std::string>{"--role", "gateway", "--queue", redis.url(), "--threads", "2"});
}

std::string register_body(const std::string& username) {
  return R"({"username":")" + username + R"(","email":")" + username +
         R"(@example.com","password":"restart-test-password"})";
}

// Registers `username` on `port` and returns its access token; empty on failure.
std::string register_user(int port, const std::string& username) {
  KeepAliveClient client(port);
  auto reply = client.request("POST", "/api/auth/register", register_body(username));
  EXPECT_EQ(reply.status, 201) << reply.body;
  return json_string(reply.body, "access_token").value_or("");
}

// Polls /health until it returns `status` or `timeout` passes.
bool wait_for_health(int port, int status, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (test::http_request(port, "GET", "/health", {}, {}, 2s).status == status) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

class SplitRedisRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto missing = test::RedisServer::missing_binary()) GTEST_SKIP() << *missing;
  }
};

TEST_F(SplitRedisRestart, TokenAndRegistrationWorkAfterRestart) {
  Watchdog watchdog("SplitRedisRestart.TokenAndRegistrationWorkAfterRestart", 60s);
  test::RedisServer redis(kPersistentRedis);
  auto gateway_a = start_gateway(redis);
  auto gateway_b = start_gateway(redis);

  // Both gateways use their accounts connection before the restart; B never loads "early-user".
  std::string early_token = register_user(gateway_a->port(), "early-user");
  std::string warm_token = register_user(gateway_b->port(), "warm-user");
  ASSERT_FALSE(early_token.empty());
  ASSERT_FALSE(warm_token.empty());

  ASSERT_EQ(redis.stop(), 0) << redis.log();
  redis.start();

  // B must load "early-user" from Redis over a connection that the restart broke.
  KeepAliveClient client_b(gateway_b->port());
  auto list = client_b.request("GET", "/api/orders", {}, early_token);
  EXPECT_NE(list.status, 401) << list.body;
  EXPECT_EQ(list.status, 200) << list.body << "\n" << gateway_b->log();

  // A's accounts connection is broken too; its first registration after the restart succeeds.
  ASSERT_TRUE(wait_for_health(gateway_a->port(), 200, 5s)) << gateway_a->log();
  KeepAliveClient client_a(gateway_a->port());
  auto registered = client_a.request("POST", "/api/auth/register", register_body("late-user"));
  EXPECT_EQ(registered.status, 201) << registered.body << "\n" << gateway_a->log();

  ASSERT_TRUE(wait_for_health(gateway_b->port(), 200, 5s)) << gateway_b->log();
  auto order = client_b.request("POST", "/api/orders", kOrder, warm_token);
  EXPECT_EQ(order.status, 201) << order.body << "\n" << gateway_b->log();
}

TEST_F(SplitRedisRestart, IdBlockReservedAfterRestart) {
  Watchdog watchdog("SplitRedisRestart.IdBlockReservedAfterRestart", 30s);
  test::RedisServer redis(kPersistentRedis);
  redis::RedisUrlResult url = redis::parse_redis_url(redis.url());
  ASSERT_TRUE(url.ok()) << url.error;
  redis::IdBlockOptions options;
  options.url = *url.url;
  options.block_size = 1;
  redis::IdBlockAllocator ids(options);
  redis::IdResult first = ids.next();
  ASSERT_TRUE(first.ok()) << first.error;

  ASSERT_EQ(redis.stop(), 0) << redis.log();
  redis::IdResult while_down = ids.next();
  EXPECT_FALSE(while_down.ok());
  EXPECT_EQ(while_down.failure, redis::FailureKind::kUnreachable) << while_down.error;

  redis.start();
  redis::IdResult after = ids.next();
  ASSERT_TRUE(after.ok()) << after.error;
  EXPECT_GT(*after.id, *first.id);
}

TEST_F(SplitRedisRestart, RedisDownFailsFastAndStopsPromptly) {
  Watchdog watchdog("SplitRedisRestart.RedisDownFailsFastAndStopsPromptly", 60s);
  test::RedisServer redis(kPersistentRedis);
  auto gateway = start_gateway(redis);
  std::string token = register_user(gateway->port(), "down-user");
  KeepAliveClient client(gateway->port());
  auto first = client.request("POST", "/api/orders", kOrder, token);
  ASSERT_EQ(first.status, 201) << first.body;

  // The gateway checks its idle connection twice a second, so /health turns 503 quickly.
  ASSERT_EQ(redis.stop(), 0) << redis.log();
  ASSERT_TRUE(wait_for_health(gateway->port(), 503, 3s)) << gateway->log();

  auto started = std::chrono::steady_clock::now();
  auto reply = client.request("POST", "/api/orders", kOrder, token);
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(reply.status, 503) << reply.body;
  // Well under the 3 s that an order waits for Redis once sent, with room for a loaded machine.
  EXPECT_LT(elapsed, 2s);
  EXPECT_EQ(reply.headers["retry-after"], "1");
  EXPECT_NE(reply.body.find("Redis is unreachable"), std::string::npos) << reply.body;

  std::string metrics = test::http_request(gateway->port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("reason=\"queue_unavailable\"} 1\n"), std::string::npos) << metrics;

  // A user this gateway has not seen must be looked up in Redis, so the login cannot be judged.
  auto login = client.request("POST", "/api/auth/login",
                              R"({"username":"other-user","password":"restart-test-password"})");
  EXPECT_EQ(login.status, 503) << login.body;
  EXPECT_NE(login.body.find("unreachable"), std::string::npos) << login.body;

  started = std::chrono::steady_clock::now();
  std::optional<int> code = gateway->stop(10s);
  elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(code, 0) << gateway->log();
  EXPECT_LT(elapsed, 5s) << gateway->log();
}

}  // namespace
}  // namespace hft::split
