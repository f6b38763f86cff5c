// Order id blocks reserved with INCRBY against a real redis-server: unique across allocators and
// threads, above the caller's floor, and above the last block after Redis lost the counter.
#include "redis/id_blocks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "redis_server.h"
#include "watchdog.h"

namespace hft::redis {
namespace {

using test::RedisServer;
using test::Watchdog;

IdBlockOptions options_for(const std::string& url, std::uint64_t block_size,
                           std::uint64_t floor = 0) {
  RedisUrlResult parsed = parse_redis_url(url);
  if (!parsed.ok()) throw std::runtime_error(parsed.error);
  IdBlockOptions options;
  options.url = *parsed.url;
  options.block_size = block_size;
  options.floor = floor;
  return options;
}

TEST(IdBlocks, UniqueAcrossAllocatorsAndThreads) {
  if (auto reason = RedisServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("IdBlocks.UniqueAcrossAllocatorsAndThreads", std::chrono::seconds(60));
  RedisServer server;
  constexpr int kThreadsPerAllocator = 4;
  constexpr int kIdsPerThread = 2000;
  IdBlockAllocator first(options_for(server.url(), 100));
  IdBlockAllocator second(options_for(server.url(), 100));

  std::vector<std::vector<std::uint64_t>> ids(2 * kThreadsPerAllocator);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2 * kThreadsPerAllocator; ++i) {
    IdBlockAllocator& allocator = i < kThreadsPerAllocator ? first : second;
    threads.emplace_back([&allocator, &out = ids[i]] {
      for (int n = 0; n < kIdsPerThread; ++n) {
        IdResult result = allocator.next();
        if (!result.ok()) return;
        out.push_back(*result.id);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::set<std::uint64_t> unique;
  for (const auto& list : ids) {
    EXPECT_EQ(list.size(), static_cast<std::size_t>(kIdsPerThread));
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
    unique.insert(list.begin(), list.end());
  }
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(2 * kThreadsPerAllocator * kIdsPerThread));
  EXPECT_EQ(*unique.begin(), 1u);
  EXPECT_EQ(first.blocks_reserved() + second.blocks_reserved(), 160u);
}

TEST(IdBlocks, FloorHoldsAfterCounterLost) {
  if (auto reason = RedisServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("IdBlocks.FloorHoldsAfterCounterLost", std::chrono::seconds(60));
  RedisServer server;
  IdBlockOptions options = options_for(server.url(), 100, 5000);
  IdBlockAllocator allocator(options);

  EXPECT_EQ(allocator.next().id, std::optional<std::uint64_t>(5001));

  // A Redis restarted without persistence has no counter; the next block still starts after the
  // last block this allocator reserved (5001..5100).
  ConnectResult admin = Connection::connect(options.url, std::chrono::seconds(5));
  ASSERT_NE(admin.connection, nullptr) << admin.error;
  ASSERT_NE(admin.connection->command({"DEL", options.key}), nullptr);
  std::uint64_t last = 0;
  for (int n = 0; n < 100; ++n) {
    IdResult result = allocator.next();
    ASSERT_TRUE(result.ok()) << result.error;
    last = *result.id;
  }
  EXPECT_EQ(last, 5101u);
  EXPECT_EQ(allocator.blocks_reserved(), 2u);
}

TEST(IdBlocks, UnreachableRedisNamesUrl) {
  Watchdog watchdog("IdBlocks.UnreachableRedisNamesUrl", std::chrono::seconds(60));
  std::string url = "redis://:secret-word@127.0.0.1:" + std::to_string(test::free_tcp_port());
  IdBlockAllocator allocator(options_for(url, 100));

  IdResult result = allocator.next();

  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("127.0.0.1"), std::string::npos) << result.error;
  EXPECT_EQ(result.error.find("secret-word"), std::string::npos) << result.error;
}

}  // namespace
}  // namespace hft::redis
