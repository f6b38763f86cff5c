// The interfaces through which the HTTP API of a scaled-out deployment (`hft serve --role
// gateway|engine --queue redis://...`) reaches Redis, so the Api itself has no Redis code:
//
// - SharedQueue, in the gateway role: replaces the in-process queue. It gives new orders ids that
//   are unique across gateways, publishes commands to the Redis order streams and keeps the
//   accounts that every gateway shares.
// - StatusSource, in both roles: the Redis part of /health and /metrics.
//
// Thread-safety: every member may be called from any thread. submit() runs on the I/O threads
// and blocks on Redis only for one round trip per block of order ids. register_user() and the
// load_user() calls block on Redis. They run on the password pool, or rarely on an I/O thread
// for a user this gateway has not seen yet.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_writer.h"
#include "gateway/commands.h"
#include "gateway/user_directory.h"

namespace hft::gateway {

enum class SubmitStatus : std::uint8_t {
  kPublished,     // the outcome arrives later as a Completion to command.reply_target
  kQueueFull,     // too many commands wait for Redis; retry later
  kUnavailable,   // Redis is unreachable or full, so no ids were reserved or nothing was queued
  kShuttingDown,  // the gateway is stopping
};

struct SubmitResult {
  SubmitStatus status = SubmitStatus::kPublished;
  // For new orders: the first id; the command's orders have consecutive ids from it.
  std::uint64_t first_order_id = 0;
  std::string detail;  // why it failed, for the 503 reply
};

// The outcome of a call to the shared account store. A store failure does not show whether the
// account exists, so the caller replies 503, not 401 or 409.
enum class AccountStatus : std::uint8_t {
  kOk,           // registered, or found
  kNameTaken,    // register_user(): the username belongs to another account
  kNotFound,     // load_user(): no such account
  kUnreachable,  // Redis could not be reached, even after reconnecting once
  kFull,         // Redis rejected the write with OOM (maxmemory reached)
  kFailed,       // another Redis error, or a malformed account entry
};

struct RegisterResult {
  AccountStatus status = AccountStatus::kFailed;
  engine::UserId user;
  std::string error;  // for the failures, with the Redis URL (password redacted)
};

struct LoadUserResult {
  AccountStatus status = AccountStatus::kFailed;
  const Account* account = nullptr;  // for kOk
  std::string error;                 // for the failures
};

class SharedQueue {
 public:
  virtual ~SharedQueue() = default;

  // Assigns ids to the command's new orders, records them QUEUED in the OrderStore and in their
  // user's order list, and publishes the command. The command must carry a reply target. Its
  // Completion is durable once Redis stored the entry. A failed publication completes with
  // durable false and prepared_reply set to the error reply, and its orders leave the store.
  [[nodiscard]] virtual SubmitResult submit(Command&& command, bool keep_alive) = 0;

  // Adds the account to the shared directory with a new user id, unless the name is taken, and
  // to the local UserDirectory. Blocks on Redis.
  [[nodiscard]] virtual RegisterResult register_user(const std::string& username,
                                                     const std::string& email,
                                                     const std::string& password_hash) = 0;

  // Copies an account that another gateway registered from the shared directory into the local
  // UserDirectory. Blocks on Redis.
  [[nodiscard]] virtual LoadUserResult load_user(std::string_view username) = 0;
  [[nodiscard]] virtual LoadUserResult load_user(engine::UserId id) = 0;
};

class StatusSource {
 public:
  virtual ~StatusSource() = default;

  // False while a Redis link this process needs is down, so /health replies 503.
  [[nodiscard]] virtual bool healthy() = 0;
  // Adds members to the /health object.
  virtual void append_health(JsonWriter& writer) = 0;
  // Appends Prometheus text lines to /metrics.
  virtual void append_metrics(std::string& out) = 0;
};

}  // namespace hft::gateway
