// OrderConsumer: the engine's side of the Redis order queue. It reads the order streams of every
// shard through one consumer group, in batches, and acknowledges (XACK) a batch once the engine
// has journaled it.
//
// Delivery is at least once. An entry read but not acknowledged stays pending in the group, so
// when a consumer dies (process crash, dropped connection), the next consumer takes the pending
// entries over at open() with XAUTOCLAIM and delivers them first, marked `redelivered`. The same
// happens after a reconnect. An entry can therefore arrive twice, or arrive again after it was
// processed. Each entry carries the gateway's unique order id, and the caller skips ids its
// journal already holds, which makes the effect exactly once.
//
// The group is meant for one consumer at a time: the takeover at open() claims the pending
// entries of every consumer in the group, and with `trim_acknowledged` each XACK is followed by
// XTRIM MINID at the acknowledged id, which assumes batches are acknowledged in the order read.
//
// Not thread-safe: one thread (the engine's reader) owns the consumer and its connection.
// Failures are returned as text naming the URL; read_batch() and acknowledge() reconnect on the
// next call after a lost connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/types.h"
#include "redis/connection.h"
#include "redis/order_stream.h"
#include "redis/redis_url.h"

namespace hft::redis {

struct ConsumerOptions {
  RedisUrl url;
  std::uint32_t shard_count = kDefaultShardCount;
  std::string group{kDefaultGroup};
  // A restarted engine uses the same name, so Redis reports its pending entries under one name.
  std::string consumer = "engine-1";
  // XREADGROUP COUNT, per stream: one read returns up to shard_count x batch_size entries.
  std::size_t batch_size = 1024;
  // XREADGROUP BLOCK: how long read_batch() waits for new entries.
  std::chrono::milliseconds block{100};
  // Connect timeout and the socket timeout, added to `block` for blocking reads.
  std::chrono::milliseconds io_timeout{5000};
  // XAUTOCLAIM takes over entries pending at least this long. 0 takes all of them, which is right
  // for the single engine the group is meant for.
  std::chrono::milliseconds claim_min_idle{0};
  // Removes acknowledged entries from the streams so Redis memory does not grow without limit.
  bool trim_acknowledged = true;
};

// One stream entry as delivered.
struct StreamEntry {
  std::uint32_t shard = 0;
  std::string stream_id;  // "<ms>-<seq>", the id XACK needs
  engine::OrderId order_id;
  std::uint16_t type = 0;
  std::string payload;
  // true for an entry taken over from the pending list: it may have been processed before.
  bool redelivered = false;
  // Empty for a well-formed entry. Otherwise what is missing or invalid; the caller logs it and
  // acknowledges the entry, since no retry can repair it.
  std::string defect;
};

struct ReadResult {
  std::vector<StreamEntry> entries;
  std::string error;  // empty on success; set after an I/O failure

  [[nodiscard]] bool ok() const { return error.empty(); }
};

class OrderConsumer;

struct ConsumerOpenResult {
  std::unique_ptr<OrderConsumer> consumer;
  std::string error;
};

class OrderConsumer {
 public:
  // Connects, creates the group on every shard's stream (XGROUP CREATE ... 0 MKSTREAM, so the
  // group also reads entries queued before it existed) and takes over the group's pending
  // entries. Fails when Redis is unreachable or rejects a command.
  [[nodiscard]] static ConsumerOpenResult open(ConsumerOptions options);

  OrderConsumer(const OrderConsumer&) = delete;
  OrderConsumer& operator=(const OrderConsumer&) = delete;
  ~OrderConsumer();

  // Returns taken-over entries first, then waits up to `block` for new ones. An empty result
  // without an error means nothing arrived in time. Entries of one shard come in stream order.
  [[nodiscard]] ReadResult read_batch();

  // XACKs the entries (and trims, see ConsumerOptions). Returns an empty string on success or
  // the error; unacknowledged entries are delivered again after the next takeover.
  [[nodiscard]] std::string acknowledge(std::span<const StreamEntry> entries);

  // Stream length, pending entries and lag of the group, queried on this consumer's connection.
  [[nodiscard]] StreamStats stats();

  // Entries taken over from the pending list since open(), over all takeovers.
  [[nodiscard]] std::uint64_t entries_taken_over() const { return entries_taken_over_; }
  [[nodiscard]] const ConsumerOptions& options() const { return options_; }

 private:
  explicit OrderConsumer(ConsumerOptions options);

  [[nodiscard]] std::string connect();
  [[nodiscard]] std::string create_groups();
  [[nodiscard]] std::string take_over_pending();
  [[nodiscard]] std::string ensure_connected();

  const ConsumerOptions options_;
  std::vector<std::string> stream_keys_;
  std::unique_ptr<Connection> connection_;
  std::deque<StreamEntry> taken_over_;
  std::uint64_t entries_taken_over_ = 0;
};

// Parses one entry of an XREADGROUP or XAUTOCLAIM reply ([id, [field, value, ...]]).
[[nodiscard]] StreamEntry parse_stream_entry(const redisReply& entry, std::uint32_t shard);

}  // namespace hft::redis
