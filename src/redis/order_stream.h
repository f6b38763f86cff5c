// The layout of the order queue in Redis, shared by the gateway's producer and the engine's
// consumer: one stream per shard, named `hft:orders:<shard>`, with shard =
// FNV-1a-64(routing key) % shard count. The routing key is the entry's `symbol` as the producer
// gets it. `hft serve --role gateway` passes the user id there, so every command of one user
// (its registration, orders and cancels) lands in one stream and keeps the order in which Redis
// accepted it. Each stream entry has three fields:
//
//   order_id  decimal text of the gateway-assigned id, unique per entry, so a consumer can
//             recognise an entry it has already processed
//   type      decimal text of the payload's record type (the gateway's journal record type)
//   payload   the encoded command, opaque bytes
//
// Producer and consumer must use the same shard count; changing it moves symbols to other
// streams. Free functions and constants: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redis/connection.h"

namespace hft::redis {

inline constexpr std::string_view kStreamKeyPrefix = "hft:orders:";
inline constexpr std::string_view kFieldOrderId = "order_id";
inline constexpr std::string_view kFieldType = "type";
inline constexpr std::string_view kFieldPayload = "payload";
inline constexpr std::uint32_t kDefaultShardCount = 4;
inline constexpr std::string_view kDefaultGroup = "engine";

// `hft:orders:<shard>`.
[[nodiscard]] std::string stream_key(std::uint32_t shard);

// The shard of a symbol. The hash is FNV-1a 64 rather than std::hash, whose values differ between
// standard libraries, because gateways and engines built apart must agree on it.
[[nodiscard]] std::uint32_t shard_for_symbol(std::string_view symbol, std::uint32_t shard_count);

// One stream and its consumer group, for /metrics.
struct ShardStats {
  std::uint32_t shard = 0;
  std::uint64_t length = 0;   // entries in the stream (XLEN), acknowledged ones included until
                              // they are trimmed
  std::uint64_t pending = 0;  // delivered to a consumer of the group and not acknowledged
  // Entries not yet delivered to the group (XINFO GROUPS "lag", Redis 7.0+). nullopt when Redis
  // cannot compute it, for example after XDEL of entries the group had not read.
  std::optional<std::uint64_t> lag;
};

struct StreamStats {
  std::vector<ShardStats> shards;
  std::uint64_t length = 0;
  std::uint64_t pending = 0;
  std::optional<std::uint64_t> lag;  // nullopt when any shard's lag is unknown
  std::string error;                 // empty on success

  [[nodiscard]] bool ok() const { return error.empty(); }
};

// Queries XLEN and XINFO GROUPS for every shard. A stream or group that does not exist yet counts
// as empty.
[[nodiscard]] StreamStats query_stream_stats(Connection& connection, std::uint32_t shard_count,
                                             std::string_view group);

// A stream entry id "<ms>-<seq>", ordered as Redis orders entries.
struct StreamId {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;

  friend auto operator<=>(const StreamId&, const StreamId&) = default;
};
// Parses "<ms>-<seq>"; nullopt for anything else.
[[nodiscard]] std::optional<StreamId> parse_stream_id(std::string_view text);

}  // namespace hft::redis
