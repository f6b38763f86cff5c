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
constexpr std::string_view kTokenKeyKey = "hft:token-key";
constexpr std::string_view kUsersKey = "hft:users";
constexpr std::string_view kUserNamesKey = "hft:user-names";
constexpr std::string_view kUserIdKey = "hft:user-id";

// KEYS: hft:users, hft:user-id, hft:user-names. ARGV: username, hash, email. Returns the new
// user id, or 0 when the name is taken.
constexpr std::string_view kRegisterScript = R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], id .. '\n' .. ARGV[2] .. '\n' .. ARGV[3])
redis.call('HSET', KEYS[3], id, ARGV[1])
return id
)lua";

std::shared_ptr<spdlog::logger> logger() {
  auto found = spdlog::get("redis");
  return found ? found : spdlog::default_logger();
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

  if (!connection_ || connection_->broken()) {
    redis::ConnectResult connected = redis::Connection::connect(url_, kIoTimeout);
    if (!connected.connection) {
      stats_ = {};
      stats_.error = connected.error;
      return stats_;
    }
    connection_ = std::move(connected.connection);
  }
  stats_ = redis::query_stream_stats(*connection_, redis::kDefaultShardCount, redis::kDefaultGroup);
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
  std::uint64_t first_id = 0;
  std::size_t order_count = command.orders.size();
  if (command.kind == CommandKind::kNewOrders) {
    redis::IdResult ids = ids_->next_range(order_count);
    if (!ids.ok()) {
      std::uint64_t failures = id_failures_.fetch_add(1) + 1;
      if ((failures & (failures - 1)) == 0) {
        logger()->error("reserving order ids failed ({} times): {}", failures, ids.error);
      }
      result.status = SubmitStatus::kUnavailable;
      result.detail = "order ids: reserving a block in Redis failed; retry later";
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
        logger()->error(
            "publishing to Redis failed ({} times): {}", failures,
            outcome.status == redis::PublishStatus::kTimedOut ? "timed out" : outcome.error);
      }
      std::string detail =
          outcome.status == redis::PublishStatus::kTimedOut
              ? "queue: Redis did not store the request in time; retry later"
              : fmt::format("queue: Redis rejected the request ({}); retry later", outcome.error);
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
  bool full = queued == redis::EnqueueStatus::kQueueFull;
  result.status = full ? SubmitStatus::kQueueFull : SubmitStatus::kUnavailable;
  result.detail = full ? fmt::format("queue: {} requests wait for Redis; retry after {} s",
                                     producer_->options().max_queued_entries, kRetryAfterS)
                       : std::string("server: shutting down");
  return result;
}

redis::Reply RedisGateway::account_command(std::initializer_list<std::string_view> args,
                                           std::string& error) {
  if (!accounts_ || accounts_->broken()) {
    redis::ConnectResult connected = redis::Connection::connect(url_, kIoTimeout);
    if (!connected.connection) {
      error = connected.error;
      return nullptr;
    }
    accounts_ = std::move(connected.connection);
  }
  redis::Reply reply = accounts_->command(args);
  if (!reply) error = accounts_->error();
  return reply;
}

RegisterResult RedisGateway::register_user(const std::string& username, const std::string& email,
                                           const std::string& password_hash) {
  RegisterResult result;
  redis::Reply reply;
  {
    std::lock_guard lock(accounts_mutex_);
    reply = account_command({"EVAL", kRegisterScript, "3", kUsersKey, kUserIdKey, kUserNamesKey,
                             username, password_hash, email},
                            result.error);
  }
  if (!reply) return result;
  if (reply->type != REDIS_REPLY_INTEGER) {
    result.error =
        fmt::format("registering at {} failed: {}", url_.redacted(), redis::reply_text(*reply));
    return result;
  }
  if (reply->integer == 0) {
    result.status = RegisterStatus::kNameTaken;
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
  result.status = RegisterStatus::kRegistered;
  return result;
}

const Account* RedisGateway::load_user(std::string_view username) {
  std::string error;
  redis::Reply reply;
  {
    std::lock_guard lock(accounts_mutex_);
    reply = account_command({"HGET", kUsersKey, username}, error);
  }
  if (!reply) {
    logger()->warn("loading user \"{}\" from Redis failed: {}", username, error);
    return nullptr;
  }
  if (reply->type != REDIS_REPLY_STRING) return nullptr;

  // "<id>\n<hash>\n<email>"; the email comes last because it may contain anything.
  std::string_view value = redis::reply_text(*reply);
  std::size_t first = value.find('\n');
  std::size_t second = first == std::string_view::npos ? first : value.find('\n', first + 1);
  std::uint64_t id = 0;
  if (second == std::string_view::npos || !parse_u64(value.substr(0, first), id) || id == 0) {
    logger()->error("{} entry of user \"{}\" is malformed", kUsersKey, username);
    return nullptr;
  }
  (void)users_.restore(engine::UserId{id}, username, value.substr(second + 1),
                       std::string(value.substr(first + 1, second - first - 1)));
  return users_.find_by_name(username);
}

const Account* RedisGateway::load_user(engine::UserId id) {
  std::string error;
  redis::Reply reply;
  {
    std::lock_guard lock(accounts_mutex_);
    reply = account_command({"HGET", kUserNamesKey, std::to_string(id.value)}, error);
  }
  if (!reply) {
    logger()->warn("loading user {} from Redis failed: {}", id.value, error);
    return nullptr;
  }
  if (reply->type != REDIS_REPLY_STRING) return nullptr;
  return load_user(redis::reply_text(*reply));
}

// The producer connects on its first entry, so the statistics connection shows whether Redis is
// reachable.
bool RedisGateway::healthy() { return producer_ && stream_stats_.get().ok(); }

void RedisGateway::append_health(JsonWriter& writer) {
  redis::ProducerStats producer = producer_ ? producer_->stats() : redis::ProducerStats{};
  writer.member("role", "gateway")
      .member("ack_mode", "redis")
      .member("redis_producer_connected", producer.connected)
      .member("redis_producer_queued", producer.queued)
      .member("state_stream_connected", subscriber_.connected())
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
  line("hft_redis_id_blocks_total", "counter", "Order id blocks reserved in Redis.",
       ids_ ? ids_->blocks_reserved() : 0);
  line("hft_state_entries_applied_total", "counter", "State stream entries applied.",
       subscriber_.entries_applied());
  line("hft_state_entries_invalid_total", "counter", "State stream entries that did not decode.",
       subscriber_.entries_invalid());
  append_stream_metrics(out, stream_stats_.get());
}

}  // namespace hft::gateway
