#include "redis/order_stream.h"

#include <fmt/format.h>

#include <charconv>

namespace hft::redis {

namespace {

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

// Reads the fields of one group from XINFO GROUPS, which RESP2 sends as a flat array of
// name/value pairs.
void read_group_info(const redisReply& group, ShardStats& stats) {
  for (std::size_t i = 0; i + 1 < group.elements; i += 2) {
    std::string_view name = reply_text(*group.element[i]);
    const redisReply& value = *group.element[i + 1];
    if (name == "pending" && value.type == REDIS_REPLY_INTEGER) {
      stats.pending = static_cast<std::uint64_t>(value.integer);
    } else if (name == "lag") {
      stats.lag = value.type == REDIS_REPLY_INTEGER
                      ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(value.integer))
                      : std::nullopt;
    }
  }
}

}  // namespace

std::string stream_key(std::uint32_t shard) { return fmt::format("{}{}", kStreamKeyPrefix, shard); }

std::uint32_t shard_for_symbol(std::string_view symbol, std::uint32_t shard_count) {
  constexpr std::uint64_t kFnvOffsetBasis = 14695981039346656037ULL;
  constexpr std::uint64_t kFnvPrime = 1099511628211ULL;
  if (shard_count <= 1) return 0;

  std::uint64_t hash = kFnvOffsetBasis;
  for (char c : symbol) {
    hash ^= static_cast<unsigned char>(c);
    hash *= kFnvPrime;
  }
  return static_cast<std::uint32_t>(hash % shard_count);
}

std::optional<StreamId> parse_stream_id(std::string_view text) {
  std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto ms = parse_u64(text.substr(0, dash));
  auto seq = parse_u64(text.substr(dash + 1));
  if (!ms || !seq) return std::nullopt;
  return StreamId{*ms, *seq};
}

StreamStats query_stream_stats(Connection& connection, std::uint32_t shard_count,
                               std::string_view group) {
  StreamStats result;
  result.lag = 0;
  bool lag_known = true;
  for (std::uint32_t shard = 0; shard < shard_count; ++shard) {
    std::string key = stream_key(shard);
    ShardStats stats;
    stats.shard = shard;

    Reply length = connection.command({"XLEN", key});
    if (!length) {
      result.error = connection.error();
      return result;
    }
    if (length->type == REDIS_REPLY_INTEGER) {
      stats.length = static_cast<std::uint64_t>(length->integer);
    }

    // XINFO GROUPS fails with "no such key" for a stream that does not exist yet. A group that
    // does not exist yet has read nothing, so its lag is the whole stream.
    Reply groups = connection.command({"XINFO", "GROUPS", key});
    if (!groups) {
      result.error = connection.error();
      return result;
    }
    stats.lag = stats.length;
    if (groups->type == REDIS_REPLY_ARRAY) {
      for (std::size_t i = 0; i < groups->elements; ++i) {
        const redisReply& info = *groups->element[i];
        if (info.type != REDIS_REPLY_ARRAY || info.elements < 2) continue;
        if (reply_text(*info.element[1]) != group) continue;
        read_group_info(info, stats);
      }
    }

    result.length += stats.length;
    result.pending += stats.pending;
    if (stats.lag) {
      *result.lag += *stats.lag;
    } else {
      lag_known = false;
    }
    result.shards.push_back(stats);
  }
  if (!lag_known) result.lag.reset();
  return result;
}

}  // namespace hft::redis
