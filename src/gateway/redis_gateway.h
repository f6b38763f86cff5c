// RedisGateway: the Redis side of `hft serve --role gateway --queue redis://...`. It publishes
// every command to the Redis order streams with OrderProducer and gives new orders ids from
// IdBlockAllocator, unique across gateways. It also keeps the accounts that all gateways share,
// follows the engine's state stream with StateSubscriber and reports the queue for /health and
// /metrics.
//
// Shared accounts live in two Redis hashes: `hft:users` maps a username to
// "<user id>\n<Argon2id hash>\n<email>", and `hft:user-names` maps a user id to its username. One
// Lua script checks the name, takes the id from INCR `hft:user-id` and writes both hashes, so a
// name is registered once across all gateways and a user can log in on any gateway at once.
//
// Commands are routed by user id: each user's registration, orders and cancels go to one stream
// and reach the engine in the order Redis accepted them.
//
// Thread-safety: as SharedQueue and StatusSource state. Outcome callbacks run on the producer's
// thread and hand Completions to the CompletionSink, which posts them to the connections' I/O
// threads. Ownership: owns the producer, the id allocator, the subscriber and two connections
// (accounts, stream statistics); borrows the stores, which must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gateway/market_view.h"
#include "gateway/order_store.h"
#include "gateway/scale_out.h"
#include "gateway/state_stream.h"
#include "gateway/token_signer.h"
#include "redis/connection.h"
#include "redis/id_blocks.h"
#include "redis/order_producer.h"
#include "redis/order_stream.h"
#include "redis/redis_url.h"

namespace hft::gateway {

// The query_stream_stats() result cached for /health and /metrics. It is refreshed at most once
// a second on its own connection, so scrapes cost Redis at most one query per second. The scrape
// that refreshes waits for it, up to the 5 s I/O timeout.
class StreamStatsCache {
 public:
  explicit StreamStatsCache(redis::RedisUrl url) : url_(std::move(url)) {}
  [[nodiscard]] redis::StreamStats get();

 private:
  const redis::RedisUrl url_;
  std::mutex mutex_;
  std::unique_ptr<redis::Connection> connection_;  // guarded by mutex_
  redis::StreamStats stats_;                       // guarded by mutex_
  std::chrono::steady_clock::time_point refreshed_{};
};

// The stream statistics as /metrics lines and as /health members.
void append_stream_metrics(std::string& out, const redis::StreamStats& stats);
void append_stream_health(JsonWriter& writer, const redis::StreamStats& stats);

// Reads the token key that every gateway shares, creating it when missing (SET NX with a random
// value, then GET), so each gateway signs and verifies tokens alike. nullopt with `error` set on
// failure.
[[nodiscard]] std::optional<TokenSigner> load_shared_token_key(const redis::RedisUrl& url,
                                                               std::string& error);

class RedisGateway final : public SharedQueue, public StatusSource {
 public:
  RedisGateway(redis::RedisUrl url, OrderStore& orders, UserDirectory& users, MarketView& market);
  ~RedisGateway() override;
  RedisGateway(const RedisGateway&) = delete;
  RedisGateway& operator=(const RedisGateway&) = delete;

  // Reads the state stream so far, then starts the producer, the id allocator (its floor the
  // highest order id seen) and the subscriber thread. Returns an error text on failure.
  [[nodiscard]] std::string start(CompletionSink completions);
  // Sends queued commands (waiting at most the producer's entry timeout, and not at all while
  // Redis is unreachable), then stops the threads.
  void stop();

  [[nodiscard]] SubmitResult submit(Command&& command, bool keep_alive) override;
  [[nodiscard]] RegisterResult register_user(const std::string& username, const std::string& email,
                                             const std::string& password_hash) override;
  [[nodiscard]] LoadUserResult load_user(std::string_view username) override;
  [[nodiscard]] LoadUserResult load_user(engine::UserId id) override;

  [[nodiscard]] bool healthy() override;
  void append_health(JsonWriter& writer) override;
  void append_metrics(std::string& out) override;

 private:
  // Reads one field of an account hash. Returns the string reply, or null with `result` set:
  // kUnreachable, kNotFound, or an error for another reply type. `user` names the user in logs.
  [[nodiscard]] redis::Reply fetch_account_field(std::string_view hash, std::string_view field,
                                                 std::string_view user, LoadUserResult& result);
  // Runs one command on the accounts connection, connecting first when needed and once more
  // when a connection opened before a Redis restart fails.
  [[nodiscard]] redis::Reply account_command(std::initializer_list<std::string_view> args,
                                             std::string& error);

  const redis::RedisUrl url_;
  OrderStore& orders_;
  UserDirectory& users_;
  CompletionSink completions_;
  // Completions of the current round trip, handed to completions_ together: producer thread only.
  std::vector<Completion> ready_completions_;
  std::unique_ptr<redis::OrderProducer> producer_;
  std::unique_ptr<redis::IdBlockAllocator> ids_;
  StateSubscriber subscriber_;
  StreamStatsCache stream_stats_;

  std::mutex accounts_mutex_;
  std::unique_ptr<redis::Connection> accounts_;  // guarded by accounts_mutex_

  std::atomic<std::uint64_t> publish_failures_{0};
  std::atomic<std::uint64_t> id_failures_{0};
};

}  // namespace hft::gateway
