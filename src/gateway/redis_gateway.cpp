#include "gateway/redis_gateway.h"

#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <ctime>
#include <vector>

#include "gateway/http_response.h"
#include "gateway/journal_codec.h"

namespace hft::gateway {

namespace {

constexpr auto kIoTimeout = std::chrono::milliseconds(5000);
constexpr auto kStatsRefresh = std::chrono::seconds(1);
constexpr int kRetryAfterS = 1;
// /health reports unhealthy while this many publications in a row failed, for kFailureMemory
// after the latest one.
constexpr std::uint64_t kUnhealthyAfterFailures = 3;
constexpr auto kFailureMemory = std::chrono::seconds(10);
constexpr std::string_view kTokenKeyKey = "hft:token-key";
constexpr std::string_view kUsersKey = "hft:users";
constexpr std::string_view kUserNamesKey = "hft:user-names";
constexpr std::string_view kUserIdKey = "hft:user-id";

// KEYS: hft:users, hft:user-id, hft:user-names. ARGV: username, hash, email. Returns the new
// user id, or 0 when the name is taken. The Argon2id hash has a random salt, so an entry with the
// same hash was written by this very request: a run repeated after a broken connection returns
// that entry's id instead of 0.
constexpr std::string_view kRegisterScript = R"lua(
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  local known_id, known_hash = string.match(existing, '^(%d+)\n([^\n]*)\n')
  if known_hash == ARGV[2] then return tonumber(known_id) end
  return 0
end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], id .. '\n' .. ARGV[2] .. '\n' .. ARGV[3])
redis.call('HSET', KEYS[3], id, ARGV[1])
return id
)lua";

std::shared_ptr<spdlog::logger> logger() {
  auto found = spdlog::get("redis");
  return found ? found : spdlog::default_logger();
}

std::string_view plural(std::uint64_t count, std::string_view one, std::string_view many) {
  return count == 1 ? one : many;
}

bool publishing_failed(const redis::ProducerStats& producer) {
  return producer.failures_in_row >= kUnhealthyAfterFailures &&
         std::chrono::steady_clock::now() - producer.last_failure < kFailureMemory;
}

bool parse_u64(std::string_view text, std::uint64_t& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Stream statistics and the token key

redis::StreamStats StreamStatsCache::get() {
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  if (now - refreshed_ < kStatsRefresh) return stats_;
  refreshed_ = now;

  // A connection opened before a Redis restart fails on its first use, so a failed query on a
  // reused connection runs once more on a new one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = connection_ && !connection_->broken();
    if (!reused) {
      redis::ConnectResult connected = redis::Connection::connect(url_, kIoTimeout);
      if (!connected.connection) {
        stats_ = {};
        stats_.error = connected.error;
        return stats_;
      }
      connection_ = std::move(connected.connection);
    }
    stats_ =
        redis::query_stream_stats(*connection_, redis::kDefaultShardCount, redis::kDefaultGroup);
    if (stats_.ok() || !reused || !connection_->broken() || connection_->timed_out()) break;
  }
  return stats_;
}

void append_stream_metrics(std::string& out, const redis::StreamStats& stats) {
  auto sink = std::back_inserter(out);
  fmt::format_to(sink,
                 "# HELP hft_redis_stream_length Entries in the Redis order streams (XLEN).\n"
                 "# TYPE hft_redis_stream_length gauge\nhft_redis_stream_length {}\n"
                 "# HELP hft_redis_pending Order stream entries delivered to the engine and not "
                 "acknowledged.\n# TYPE hft_redis_pending gauge\nhft_redis_pending {}\n",
                 stats.length, stats.pending);
  if (stats.lag) {
    fmt::format_to(sink,
                   "# HELP hft_redis_consumer_lag Order stream entries not yet read by the "
                   "engine.\n# TYPE hft_redis_consumer_lag gauge\nhft_redis_consumer_lag {}\n",
                   *stats.lag);
  }
  fmt::format_to(sink,
                 "# HELP hft_redis_stats_ok 1 when the last stream statistics query worked.\n"
                 "# TYPE hft_redis_stats_ok gauge\nhft_redis_stats_ok {}\n",
                 stats.ok() ? 1 : 0);
}

void append_stream_health(JsonWriter& writer, const redis::StreamStats& stats) {
  writer.member("redis_ok", stats.ok())
      .member("redis_queue_length", stats.length)
      .member("redis_pending", stats.pending);
  if (stats.lag) writer.member("redis_consumer_lag", *stats.lag);
  if (!stats.ok()) writer.member("redis_error", stats.error);
}

std::optional<TokenSigner> load_shared_token_key(const redis::RedisUrl& url, std::string& error) {
  redis::ConnectResult connected = redis::Connection::connect(url, kIoTimeout);
  if (!connected.connection) {
    error = connected.error;
    return std::nullopt;
  }
  redis::Connection& connection = *connected.connection;

  std::array<unsigned char, TokenSigner::kKeyBytes> key{};
  randombytes_buf(key.data(), key.size());
  char hex[TokenSigner::kKeyBytes * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), key.data(), key.size());
  redis::Reply set = connection.command({"SET", kTokenKeyKey, hex, "NX"});
  redis::Reply get = set ? connection.command({"GET", kTokenKeyKey}) : nullptr;
  if (!get) {
    error = connection.error();
    return std::nullopt;
  }
  std::string_view stored = redis::reply_text(*get);
  std::size_t decoded = 0;
  if (get->type != REDIS_REPLY_STRING ||
      sodium_hex2bin(key.data(), key.size(), stored.data(), stored.size(), nullptr, &decoded,
                     nullptr) != 0 ||
      decoded != key.size()) {
    error = fmt::format("{} at {}: not {} hex-encoded bytes; delete the key to create a new one",
                        kTokenKeyKey, url.redacted(), TokenSigner::kKeyBytes);
    return std::nullopt;
  }
  return TokenSigner(key);
}

// ---------------------------------------------------------------------------------------------
// RedisGateway

RedisGateway::RedisGateway(redis::RedisUrl url, OrderStore& orders, UserDirectory& users,
                           MarketView& market)
    : url_(std::move(url)),
      orders_(orders),
      users_(users),
      subscriber_(url_, orders, users, market),
      stream_stats_(url_) {}

RedisGateway::~RedisGateway() { stop(); }

std::string RedisGateway::start(CompletionSink completions) {
  completions_ = std::move(completions);
  std::string error = subscriber_.catch_up();
  if (!error.empty()) return fmt::format("reading {}: {}", kEventStreamKey, error);

  redis::IdBlockOptions id_options;
  id_options.url = url_;
  id_options.floor = subscriber_.max_order_id();
  ids_ = std::make_unique<redis::IdBlockAllocator>(std::move(id_options));

  redis::ProducerOptions producer_options;
  producer_options.url = url_;
  // One hand-over per round trip: the sink posts once per I/O thread, not once per order.
  producer_options.after_outcomes = [this] {
    if (ready_completions_.empty()) return;
    completions_(std::move(ready_completions_));
    ready_completions_.clear();
  };
  producer_ = std::make_unique<redis::OrderProducer>(std::move(producer_options));
  subscriber_.start();
  return {};
}

void RedisGateway::stop() {
  if (producer_) producer_->stop();
  subscriber_.stop();
}

SubmitResult RedisGateway::submit(Command&& command, bool keep_alive) {
  SubmitResult result;
  // Checked before the id reservation too, which would otherwise wait for the connect timeout
  // when Redis does not respond at all.
  if (producer_->unavailable()) {
    result.status = SubmitStatus::kUnavailable;
    result.detail = fmt::format("queue: Redis is unreachable; retry after {} s", kRetryAfterS);
    return result;
  }

  std::uint64_t first_id = 0;
  std::size_t order_count = command.orders.size();
  if (command.kind == CommandKind::kNewOrders) {
    redis::IdResult ids = ids_->next_range(order_count);
    if (!ids.ok()) {
      std::uint64_t failures = id_failures_.fetch_add(1) + 1;
      if ((failures & (failures - 1)) == 0) {
        logger()->error("reserving order ids failed ({} {} so far): {}", failures,
                        plural(failures, "time", "times"), ids.error);
      }
      result.status = SubmitStatus::kUnavailable;
      switch (ids.failure) {
        case redis::FailureKind::kFull:
          result.detail =
              "order ids: Redis is full (maxmemory reached) and rejected the block "
              "reservation; retry later";
          break;
        case redis::FailureKind::kUnreachable:
          result.detail = "order ids: Redis is unreachable; retry later";
          break;
        case redis::FailureKind::kNone:
        case redis::FailureKind::kError:
          result.detail = "order ids: reserving a block in Redis failed; retry later";
          break;
      }
      return result;
    }
    first_id = *ids.id;
    OrderRecord record;
    record.user = command.user;
    for (std::size_t i = 0; i < order_count; ++i) {
      NewOrderCommand& order = command.orders[i];
      order.id = engine::OrderId{first_id + i};
      record.id = order.id;
      record.request = order.request;
      record.created_unix_ns = order.created_unix_ns;
      (void)orders_.create(record);
    }
    users_.add_orders(command.user, engine::OrderId{first_id}, order_count);
  }

  redis::OrderEntry entry;
  std::vector<std::byte> payload;
  entry.type = static_cast<std::uint16_t>(encode_command(command, payload));
  entry.payload.assign(reinterpret_cast<const char*>(payload.data()), payload.size());
  entry.symbol = std::to_string(command.user.value);
  switch (command.kind) {
    case CommandKind::kNewOrders:
      entry.order_id = engine::OrderId{first_id};
      break;
    case CommandKind::kCancel:
      entry.order_id = command.cancel_id;
      break;
    case CommandKind::kRegisterUser:
      entry.order_id = engine::OrderId{command.user.value};
      break;
  }

  auto on_outcome = [this, target = command.reply_target, slot = command.reply_slot,
                     prepared = std::move(command.prepared_reply), first_id, order_count,
                     keep_alive](const redis::PublishOutcome& outcome) {
    Completion completion;
    completion.target = target;
    completion.slot = slot;
    if (outcome.status == redis::PublishStatus::kAccepted) {
      completion.durable = true;
      completion.prepared_reply = prepared;
    } else {
      // Redis did not confirm the entry, so its orders leave the local store.
      for (std::size_t i = 0; i < order_count; ++i) orders_.erase(engine::OrderId{first_id + i});
      std::uint64_t failures = publish_failures_.fetch_add(1) + 1;
      if ((failures & (failures - 1)) == 0) {
        logger()->error("publishing to Redis failed ({} {} so far): {}", failures,
                        plural(failures, "time", "times"), outcome.error);
      }
      std::string detail;
      if (outcome.status == redis::PublishStatus::kTimedOut) {
        detail = "queue: Redis did not store the request in time; retry later";
      } else if (outcome.failure == redis::FailureKind::kFull) {
        detail = fmt::format(
            "queue: Redis is full (maxmemory reached) and rejected the request "
            "({}); retry later",
            outcome.error);
      } else {
        detail = fmt::format("queue: Redis rejected the request ({}); retry later", outcome.error);
      }
      append_error_reply(completion.prepared_reply, 503, "unavailable", detail,
                         http_date(std::time(nullptr)), ReplyOptions(keep_alive, kRetryAfterS));
    }
    if (completion.target) ready_completions_.push_back(std::move(completion));
  };

  redis::EnqueueStatus queued = producer_->publish(std::move(entry), std::move(on_outcome));
  if (queued == redis::EnqueueStatus::kQueued) {
    result.first_order_id = first_id;
    return result;
  }
  for (std::size_t i = 0; i < order_count; ++i) orders_.erase(engine::OrderId{first_id + i});
  switch (queued) {
    case redis::EnqueueStatus::kQueueFull:
      result.status = SubmitStatus::kQueueFull;
      result.detail = fmt::format("queue: {} requests wait for Redis; retry after {} s",
                                  producer_->options().max_queued_entries, kRetryAfterS);
      break;
    case redis::EnqueueStatus::kUnavailable:
      result.status = SubmitStatus::kUnavailable;
      result.detail = fmt::format("queue: Redis is unreachable; retry after {} s", kRetryAfterS);
      break;
    case redis::EnqueueStatus::kQueued:
    case redis::EnqueueStatus::kStopped:
      result.status = SubmitStatus::kShuttingDown;
      result.detail = "server: shutting down";
      break;
  }
  return result;
}

redis::Reply RedisGateway::account_command(std::initializer_list<std::string_view> args,
                                           std::string& error) {
  std::lock_guard lock(accounts_mutex_);
  return redis::command_with_reconnect(accounts_, url_, kIoTimeout, args, error);
}

RegisterResult RedisGateway::register_user(const std::string& username, const std::string& email,
                                           const std::string& password_hash) {
  RegisterResult result;
  redis::Reply reply = account_command({"EVAL", kRegisterScript, "3", kUsersKey, kUserIdKey,
                                        kUserNamesKey, username, password_hash, email},
                                       result.error);
  if (!reply) {
    result.status = AccountStatus::kUnreachable;
    return result;
  }
  if (reply->type != REDIS_REPLY_INTEGER) {
    result.status = redis::classify_reply(*reply) == redis::FailureKind::kFull
                        ? AccountStatus::kFull
                        : AccountStatus::kFailed;
    result.error =
        fmt::format("registering at {} failed: {}", url_.redacted(), redis::reply_text(*reply));
    return result;
  }
  if (reply->integer == 0) {
    result.status = AccountStatus::kNameTaken;
    return result;
  }
  result.user = engine::UserId{static_cast<std::uint64_t>(reply->integer)};
  if (!users_.restore(result.user, username, email, password_hash)) {
    // The local directory learnt the name from the state stream under this id already.
    const Account* known = users_.find_by_name(username);
    if (known == nullptr || known->id != result.user) {
      result.error = fmt::format("user {} (\"{}\") conflicts with a local account",
                                 result.user.value, username);
      return result;
    }
  }
  result.status = AccountStatus::kOk;
  return result;
}

redis::Reply RedisGateway::fetch_account_field(std::string_view hash, std::string_view field,
                                               std::string_view user, LoadUserResult& result) {
  redis::Reply reply = account_command({"HGET", hash, field}, result.error);
  if (!reply) {
    logger()->warn("loading user {} from Redis failed: {}", user, result.error);
    result.status = AccountStatus::kUnreachable;
    return nullptr;
  }
  if (reply->type == REDIS_REPLY_NIL) {
    result.status = AccountStatus::kNotFound;
    return nullptr;
  }
  if (reply->type != REDIS_REPLY_STRING) {
    result.error = fmt::format("HGET {} on Redis at {} failed: {}", hash, url_.redacted(),
                               redis::reply_text(*reply));
    logger()->error("loading user {} failed: {}", user, result.error);
    return nullptr;
  }
  return reply;
}

LoadUserResult RedisGateway::load_user(std::string_view username) {
  LoadUserResult result;
  redis::Reply reply =
      fetch_account_field(kUsersKey, username, fmt::format("\"{}\"", username), result);
  if (!reply) return result;

  // "<id>\n<hash>\n<email>"; the email comes last because it may contain anything.
  std::string_view value = redis::reply_text(*reply);
  std::size_t first = value.find('\n');
  std::size_t second = first == std::string_view::npos ? first : value.find('\n', first + 1);
  std::uint64_t id = 0;
  if (second == std::string_view::npos || !parse_u64(value.substr(0, first), id) || id == 0) {
    result.error = fmt::format("{} entry of user \"{}\" is malformed", kUsersKey, username);
    logger()->error("{}", result.error);
    return result;
  }
  (void)users_.restore(engine::UserId{id}, username, value.substr(second + 1),
                       std::string(value.substr(first + 1, second - first - 1)));
  result.account = users_.find_by_name(username);
  result.status = result.account != nullptr ? AccountStatus::kOk : AccountStatus::kFailed;
  return result;
}

LoadUserResult RedisGateway::load_user(engine::UserId id) {
  LoadUserResult result;
  const std::string id_text = std::to_string(id.value);
  redis::Reply reply = fetch_account_field(kUserNamesKey, id_text, id_text, result);
  if (!reply) return result;
  return load_user(redis::reply_text(*reply));
}

// The producer checks its connection at least every idle_check_interval, and the statistics
// connection shows whether Redis accepts queries. The last kUnhealthyAfterFailures publications
// failing (for example OOM replies) also counts, but only for kFailureMemory after the latest
// failure: a gateway taken out of service for it receives no orders that could show recovery.
bool RedisGateway::healthy() {
  if (!producer_) return false;
  redis::ProducerStats producer = producer_->stats();
  if (producer.unavailable || publishing_failed(producer)) return false;
  return stream_stats_.get().ok();
}

void RedisGateway::append_health(JsonWriter& writer) {
  redis::ProducerStats producer = producer_ ? producer_->stats() : redis::ProducerStats{};
  writer.member("role", "gateway")
      .member("ack_mode", "redis")
      .member("redis_producer_connected", producer.connected)
      .member("redis_producer_available", producer_ != nullptr && !producer.unavailable)
      .member("redis_producer_queued", producer.queued)
      .member("redis_publish_failures_in_row", producer.failures_in_row);
  if (producer.unavailable || publishing_failed(producer)) {
    writer.member("redis_publish_error", producer.last_error);
  }
  writer.member("state_stream_connected", subscriber_.connected())
      .member("state_entries_applied", subscriber_.entries_applied());
  append_stream_health(writer, stream_stats_.get());
}

void RedisGateway::append_metrics(std::string& out) {
  redis::ProducerStats producer = producer_ ? producer_->stats() : redis::ProducerStats{};
  auto sink = std::back_inserter(out);
  auto line = [&](std::string_view name, std::string_view type, std::string_view help,
                  std::uint64_t value) {
    fmt::format_to(sink, "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name,
                   value);
  };
  line("hft_redis_producer_accepted_total", "counter", "Entries Redis stored (XADD).",
       producer.accepted);
  line("hft_redis_producer_rejected_total", "counter", "Entries Redis rejected with an error.",
       producer.rejected);
  line("hft_redis_producer_timed_out_total", "counter",
       "Entries not confirmed by Redis within the entry timeout.", producer.timed_out);
  line("hft_redis_producer_round_trips_total", "counter", "Pipelined XADD round trips.",
       producer.round_trips);
  line("hft_redis_producer_reconnects_total", "counter", "Producer reconnections to Redis.",
       producer.reconnects);
  line("hft_redis_producer_queued", "gauge", "Entries waiting for Redis.", producer.queued);
  line("hft_redis_producer_connected", "gauge", "1 while the producer is connected.",
       producer.connected ? 1 : 0);
  line("hft_redis_producer_available", "gauge",
       "0 from a failed connect or I/O failure until the producer connects again.",
       producer.unavailable ? 0 : 1);
  line("hft_redis_producer_failures_in_row", "gauge",
       "Publications that failed since the last one Redis stored.", producer.failures_in_row);
  line("hft_redis_id_blocks_total", "counter", "Order id blocks reserved in Redis.",
       ids_ ? ids_->blocks_reserved() : 0);
  line("hft_state_entries_applied_total", "counter", "State stream entries applied.",
       subscriber_.entries_applied());
  line("hft_state_entries_invalid_total", "counter", "State stream entries that did not decode.",
       subscriber_.entries_invalid());
  append_stream_metrics(out, stream_stats_.get());
}

}  // namespace hft::gateway
