#include "redis/eviction_check.h"

#include <gtest/gtest.h>

#include "redis_server.h"
#include "watchdog.h"

namespace hft::redis {
namespace {

using test::RedisServer;
using test::Watchdog;

constexpr std::chrono::milliseconds kTimeout{5000};

std::unique_ptr<Connection> connect_to(const std::string& text) {
  RedisUrlResult url = parse_redis_url(text);
  EXPECT_TRUE(url.ok()) << url.error;
  if (!url.ok()) return nullptr;
  ConnectResult result = Connection::connect(*url.url, kTimeout);
  EXPECT_NE(result.connection, nullptr) << result.error;
  return std::move(result.connection);
}

TEST(EvictionCheck, RejectsAllKeysLruUnderMemoryLimit) {
  if (auto reason = RedisServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("EvictionCheck.RejectsAllKeysLruUnderMemoryLimit", std::chrono::seconds(60));
  RedisServer server({"--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"});
  auto connection = connect_to(server.url());
  ASSERT_NE(connection, nullptr);

  EvictionCheck check = check_eviction_policy(*connection);

  EXPECT_EQ(check.verdict, EvictionVerdict::kEvicts);
  EXPECT_EQ(check.policy, "allkeys-lru");
  EXPECT_EQ(check.maxmemory_bytes, 100u << 20);
  EXPECT_EQ(check.message, "Redis at " + server.url() +
                               " evicts keys (maxmemory-policy allkeys-lru, maxmemory 100mb): "
                               "queued orders could be dropped silently; set maxmemory-policy "
                               "noeviction");
}

TEST(EvictionCheck, AcceptsNoEvictionUnderMemoryLimit) {
  if (auto reason = RedisServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("EvictionCheck.AcceptsNoEvictionUnderMemoryLimit", std::chrono::seconds(60));
  RedisServer server({"--maxmemory", "100mb", "--maxmemory-policy", "noeviction"});
  auto connection = connect_to(server.url());
  ASSERT_NE(connection, nullptr);

  EvictionCheck check = check_eviction_policy(*connection);

  EXPECT_EQ(check.verdict, EvictionVerdict::kSafe) << check.message;
  EXPECT_EQ(check.policy, "noeviction");
}

TEST(EvictionCheck, AcceptsEvictionPolicyWithoutMemoryLimit) {
  if (auto reason = RedisServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("EvictionCheck.AcceptsEvictionPolicyWithoutMemoryLimit",
                    std::chrono::seconds(60));
  RedisServer server({"--maxmemory", "0", "--maxmemory-policy", "volatile-lru"});
  auto connection = connect_to(server.url());
  ASSERT_NE(connection, nullptr);

  EvictionCheck check = check_eviction_policy(*connection);

  EXPECT_EQ(check.verdict, EvictionVerdict::kSafe) << check.message;
  EXPECT_EQ(check.maxmemory_bytes, 0u);
}

TEST(EvictionCheck, FormatsMemorySizesAsRedisDoes) {
  EXPECT_EQ(format_memory_size(100u << 20), "100mb");
  EXPECT_EQ(format_memory_size(2ull << 30), "2gb");
  EXPECT_EQ(format_memory_size(512u << 10), "512kb");
  EXPECT_EQ(format_memory_size(1000), "1000");
  EXPECT_EQ(format_memory_size(0), "0");
}

TEST(RedisConnection, AuthenticatesAndSelectsDatabase) {
  if (auto reason = RedisServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("RedisConnection.AuthenticatesAndSelectsDatabase", std::chrono::seconds(60));
  RedisServer server({"--requirepass", "s3cret"});
  const std::string address = "127.0.0.1:" + std::to_string(server.port());

  auto connection = connect_to("redis://:s3cret@" + address + "/2");
  ASSERT_NE(connection, nullptr);
  Reply set = connection->command({"SET", "marker", "db2"});
  ASSERT_NE(set, nullptr) << connection->error();
  auto other = connect_to("redis://:s3cret@" + address + "/0");
  ASSERT_NE(other, nullptr);
  Reply missing = other->command({"EXISTS", "marker"});
  ASSERT_NE(missing, nullptr) << other->error();
  EXPECT_EQ(missing->integer, 0) << "SELECT 2 did not take effect";

  RedisUrlResult wrong = parse_redis_url("redis://:wrong-password@" + address + "/0");
  ASSERT_TRUE(wrong.ok());
  ConnectResult rejected = Connection::connect(*wrong.url, kTimeout);
  EXPECT_EQ(rejected.connection, nullptr);
  EXPECT_NE(rejected.error.find("AUTH on Redis at redis://:***@" + address + "/0 failed"),
            std::string::npos)
      << rejected.error;
  EXPECT_EQ(rejected.error.find("wrong-password"), std::string::npos) << rejected.error;
}

}  // namespace
}  // namespace hft::redis
