// IdBlockAllocator: order ids that are unique across every gateway sharing one Redis. A gateway
// reserves a block of `block_size` consecutive ids with one atomic INCRBY on a counter key and
// hands them out locally, so each block, not each order, costs one round trip to Redis. Ids from
// one allocator increase; ids of different gateways interleave by block.
//
// Each reservation also lifts the counter to at least the allocator's floor (the highest id this
// process has used, from its journal or an earlier block) in the same Lua script, so a Redis that
// lost the key does not hand the same gateway an id it used before.
// NOTE: that guards one gateway only. If Redis loses the counter while several gateways run,
// another gateway can receive a block that one of them already used; the counter needs Redis
// persistence (AOF or RDB) to be unique across gateways.
//
// Thread-safety: next() may be called from any thread. A mutex guards the block and the
// connection, and is held during the round trip that reserves the next block.
// Ownership: owns its Redis connection. Failures are returned as text naming the URL (password
// redacted) and as a FailureKind. A reservation whose connection broke (Redis restarted since the
// last block) connects again and runs once more, so a Redis that is back is used at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "redis/connection.h"
#include "redis/redis_url.h"

namespace hft::redis {

inline constexpr std::string_view kDefaultOrderIdKey = "hft:order-id";

struct IdBlockOptions {
  RedisUrl url;
  std::string key{kDefaultOrderIdKey};
  std::uint64_t block_size = 10'000;
  // Every id handed out is above this one: the highest order id the caller has used.
  std::uint64_t floor = 0;
  std::chrono::milliseconds io_timeout{5000};
};

// One id, or why none could be reserved.
struct IdResult {
  std::optional<std::uint64_t> id;
  std::string error;
  FailureKind failure = FailureKind::kNone;

  [[nodiscard]] bool ok() const { return id.has_value(); }
};

class IdBlockAllocator {
 public:
  // Connects lazily: the first next() reserves the first block.
  explicit IdBlockAllocator(IdBlockOptions options);
  ~IdBlockAllocator();
  IdBlockAllocator(const IdBlockAllocator&) = delete;
  IdBlockAllocator& operator=(const IdBlockAllocator&) = delete;

  // The next id of the current block, reserving a new block when it is used up.
  [[nodiscard]] IdResult next();
  // The first of `count` consecutive ids. When the current block has fewer left, they are
  // skipped and a new block is reserved. Fails when `count` is 0 or larger than the block size.
  [[nodiscard]] IdResult next_range(std::uint64_t count);

  // Blocks reserved so far, for metrics.
  [[nodiscard]] std::uint64_t blocks_reserved() const;

 private:
  // Reserves the next block into next_id_ and block_end_; returns an error text on failure.
  [[nodiscard]] std::string reserve_block(FailureKind& failure);

  const IdBlockOptions options_;
  mutable std::mutex mutex_;
  std::unique_ptr<Connection> connection_;  // guarded by mutex_
  std::uint64_t next_id_ = 0;               // guarded by mutex_
  std::uint64_t block_end_ = 0;             // guarded by mutex_; last id of the block
  std::uint64_t floor_ = 0;                 // guarded by mutex_
  std::uint64_t blocks_reserved_ = 0;       // guarded by mutex_
};

}  // namespace hft::redis
