#include "redis/order_consumer.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <map>
#include <optional>

namespace hft::redis {

namespace {

template <typename Integer>
std::optional<Integer> parse_integer(std::string_view text) {
  Integer value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::string command_error(const Connection& connection, std::string_view command,
                          const Reply& reply) {
  if (!reply) return connection.error();
  return fmt::format("{} on Redis at {} failed: {}", command, connection.url().redacted(),
                     reply_text(*reply));
}

}  // namespace

StreamEntry parse_stream_entry(const redisReply& entry, std::uint32_t shard) {
  StreamEntry parsed;
  parsed.shard = shard;
  if (entry.type != REDIS_REPLY_ARRAY || entry.elements != 2) {
    parsed.defect = "the entry is not an [id, fields] pair";
    return parsed;
  }
  parsed.stream_id = std::string(reply_text(*entry.element[0]));
  const redisReply& fields = *entry.element[1];
  if (fields.type != REDIS_REPLY_ARRAY) {
    parsed.defect = "the entry has no fields (deleted from the stream)";
    return parsed;
  }

  bool has_id = false;
  bool has_type = false;
  bool has_payload = false;
  for (std::size_t i = 0; i + 1 < fields.elements; i += 2) {
    std::string_view name = reply_text(*fields.element[i]);
    std::string_view value = reply_text(*fields.element[i + 1]);
    if (name == kFieldOrderId) {
      auto id = parse_integer<std::uint64_t>(value);
      has_id = id.has_value() && *id != 0;
      if (has_id) parsed.order_id = engine::OrderId{*id};
    } else if (name == kFieldType) {
      auto type = parse_integer<std::uint16_t>(value);
      has_type = type.has_value();
      if (has_type) parsed.type = *type;
    } else if (name == kFieldPayload) {
      parsed.payload = std::string(value);
      has_payload = true;
    }
  }
  if (!has_id) {
    parsed.defect = fmt::format("field {} is missing or not a positive integer", kFieldOrderId);
  } else if (!has_type) {
    parsed.defect = fmt::format("field {} is missing or not an integer in 0..65535", kFieldType);
  } else if (!has_payload) {
    parsed.defect = fmt::format("field {} is missing", kFieldPayload);
  }
  return parsed;
}

OrderConsumer::OrderConsumer(ConsumerOptions options) : options_(std::move(options)) {
  for (std::uint32_t shard = 0; shard < std::max<std::uint32_t>(options_.shard_count, 1); ++shard) {
    stream_keys_.push_back(stream_key(shard));
  }
}

OrderConsumer::~OrderConsumer() = default;

ConsumerOpenResult OrderConsumer::open(ConsumerOptions options) {
  std::unique_ptr<OrderConsumer> consumer(new OrderConsumer(std::move(options)));
  std::string error = consumer->connect();
  if (!error.empty()) return {nullptr, std::move(error)};
  return {std::move(consumer), {}};
}

std::string OrderConsumer::connect() {
  ConnectResult result = Connection::connect(options_.url, options_.io_timeout);
  if (!result.connection) return result.error;
  connection_ = std::move(result.connection);

  // A blocking read must not hit the socket timeout while Redis waits for entries.
  if (!connection_->set_timeout(options_.block + options_.io_timeout)) return connection_->error();

  std::string error = create_groups();
  if (!error.empty()) return error;
  return take_over_pending();
}

std::string OrderConsumer::ensure_connected() {
  if (connection_ && !connection_->broken()) return {};
  connection_.reset();
  return connect();
}

std::string OrderConsumer::create_groups() {
  for (const std::string& key : stream_keys_) {
    Reply reply = connection_->command({"XGROUP", "CREATE", key, options_.group, "0", "MKSTREAM"});
    if (!reply) return connection_->error();
    // BUSYGROUP: the group exists already, which is the normal case after the first start.
    if (reply->type == REDIS_REPLY_ERROR && !reply_text(*reply).starts_with("BUSYGROUP")) {
      return command_error(*connection_, "XGROUP CREATE " + key, reply);
    }
  }
  return {};
}

std::string OrderConsumer::take_over_pending() {
  // Entries already buffered are pending too and come back from XAUTOCLAIM below.
  taken_over_.clear();
  const std::string min_idle = std::to_string(options_.claim_min_idle.count());
  const std::string count = std::to_string(options_.batch_size);

  for (std::uint32_t shard = 0; shard < stream_keys_.size(); ++shard) {
    std::string cursor = "0-0";
    do {
      Reply reply = connection_->command({"XAUTOCLAIM", stream_keys_[shard], options_.group,
                                          options_.consumer, min_idle, cursor, "COUNT", count});
      if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        return command_error(*connection_, "XAUTOCLAIM " + stream_keys_[shard], reply);
      }
      cursor = std::string(reply_text(*reply->element[0]));
      const redisReply& entries = *reply->element[1];
      for (std::size_t i = 0; i < entries.elements; ++i) {
        // Redis 6.2 returns nil for a pending entry that was deleted from the stream.
        if (entries.element[i]->type != REDIS_REPLY_ARRAY) continue;
        StreamEntry entry = parse_stream_entry(*entries.element[i], shard);
        entry.redelivered = true;
        taken_over_.push_back(std::move(entry));
        ++entries_taken_over_;
      }
    } while (cursor != "0-0");
  }
  return {};
}

ReadResult OrderConsumer::read_batch() {
  ReadResult result;
  result.error = ensure_connected();
  if (!result.ok()) return result;

  if (!taken_over_.empty()) {
    while (!taken_over_.empty() && result.entries.size() < options_.batch_size) {
      result.entries.push_back(std::move(taken_over_.front()));
      taken_over_.pop_front();
    }
    return result;
  }

  const std::string count = std::to_string(options_.batch_size);
  const std::string block_ms = std::to_string(options_.block.count());
  std::vector<std::string_view> args = {"XREADGROUP",      "GROUP",  options_.group,
                                        options_.consumer, "COUNT",  count,
                                        "BLOCK",           block_ms, "STREAMS"};
  for (const std::string& key : stream_keys_) args.push_back(key);
  for (std::size_t i = 0; i < stream_keys_.size(); ++i) args.push_back(">");

  Reply reply = connection_->command(args);
  if (!reply || reply->type == REDIS_REPLY_ERROR) {
    result.error = command_error(*connection_, "XREADGROUP", reply);
    return result;
  }
  // nil: BLOCK passed without a new entry.
  if (reply->type != REDIS_REPLY_ARRAY) return result;

  for (std::size_t s = 0; s < reply->elements; ++s) {
    const redisReply& stream = *reply->element[s];
    if (stream.type != REDIS_REPLY_ARRAY || stream.elements != 2) continue;
    std::string_view key = reply_text(*stream.element[0]);
    std::uint32_t shard = 0;
    while (shard < stream_keys_.size() && stream_keys_[shard] != key) ++shard;
    if (shard == stream_keys_.size()) continue;

    const redisReply& entries = *stream.element[1];
    for (std::size_t i = 0; i < entries.elements; ++i) {
      result.entries.push_back(parse_stream_entry(*entries.element[i], shard));
    }
  }
  return result;
}

std::string OrderConsumer::acknowledge(std::span<const StreamEntry> entries) {
  if (entries.empty()) return {};
  std::string error = ensure_connected();
  if (!error.empty()) return error;

  // The ids per shard. XTRIM keeps the highest one and everything after it.
  std::map<std::uint32_t, std::vector<std::string_view>> ids_by_shard;
  for (const StreamEntry& entry : entries) {
    // An entry too malformed to have an id cannot be acknowledged, and Redis never sends one.
    if (entry.stream_id.empty() || entry.shard >= stream_keys_.size()) continue;
    ids_by_shard[entry.shard].push_back(entry.stream_id);
  }

  // One round trip: every XACK (and XTRIM) is buffered, then the replies are read.
  std::vector<std::string> commands;
  std::size_t appended = 0;
  for (auto& [shard, ids] : ids_by_shard) {
    std::vector<std::string_view> args = {"XACK", stream_keys_[shard], options_.group};
    args.insert(args.end(), ids.begin(), ids.end());
    if (!connection_->append(args)) return connection_->error();
    commands.push_back("XACK " + stream_keys_[shard]);
    ++appended;

    if (!options_.trim_acknowledged) continue;
    std::string_view highest = ids.front();
    for (std::string_view id : ids) {
      if (parse_stream_id(id) > parse_stream_id(highest)) highest = id;
    }
    std::array<std::string_view, 5> trim = {"XTRIM", stream_keys_[shard], "MINID", "~", highest};
    if (!connection_->append(trim)) return connection_->error();
    commands.push_back("XTRIM " + stream_keys_[shard]);
    ++appended;
  }

  std::string first_error;
  for (std::size_t i = 0; i < appended; ++i) {
    Reply reply = connection_->read_reply();
    if (!reply) return connection_->error();
    if (reply->type == REDIS_REPLY_ERROR && first_error.empty()) {
      first_error = command_error(*connection_, commands[i], reply);
    }
  }
  return first_error;
}

StreamStats OrderConsumer::stats() {
  std::string error = ensure_connected();
  if (!error.empty()) {
    StreamStats failed;
    failed.error = std::move(error);
    return failed;
  }
  return query_stream_stats(*connection_, static_cast<std::uint32_t>(stream_keys_.size()),
                            options_.group);
}

}  // namespace hft::redis
