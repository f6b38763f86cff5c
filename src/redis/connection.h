// Connection: one blocking hiredis connection to the Redis server of a RedisUrl, authenticated and
// with its database selected, plus the pipelining calls (append several commands, then read the
// replies in order).
//
// Not thread-safe: one thread owns each Connection. Owns its redisContext and frees it on
// destruction. I/O failures are returned as text that names the URL (password redacted); after
// one, broken() is true and the caller connects again. Redis error replies are not failures of
// the connection: they come back as replies of type REDIS_REPLY_ERROR.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "redis/redis_url.h"

namespace hft::redis {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};

// A reply owned by the caller; null when the connection failed.
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

// The text of a string, status or error reply; empty for other types.
[[nodiscard]] std::string_view reply_text(const redisReply& reply);

// The kind of failure of a call to Redis, for callers that reply differently to each kind.
enum class FailureKind : std::uint8_t {
  kNone,
  kUnreachable,  // connecting, sending or reading failed
  kFull,         // an OOM error reply: maxmemory is reached under the noeviction policy
  kError,        // another error reply, or a reply of an unexpected type
};

// kFull for an OOM error reply, kError for any other error reply, kNone otherwise.
[[nodiscard]] FailureKind classify_reply(const redisReply& reply);

class Connection;

struct ConnectResult {
  std::unique_ptr<Connection> connection;
  std::string error;
};

class Connection {
 public:
  // Connects within `timeout`, sends AUTH when the URL has a password and SELECT when its
  // database is not 0. `timeout` also becomes the read and write timeout of later commands.
  [[nodiscard]] static ConnectResult connect(const RedisUrl& url,
                                             std::chrono::milliseconds timeout);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one command and waits for its reply. Returns null on an I/O failure (see error()).
  [[nodiscard]] Reply command(std::span<const std::string_view> args);
  [[nodiscard]] Reply command(std::initializer_list<std::string_view> args);

  // Buffers one command without sending it; read_reply() sends every buffered command and then
  // reads their replies one by one, in order. False on an I/O failure.
  [[nodiscard]] bool append(std::span<const std::string_view> args);
  [[nodiscard]] Reply read_reply();

  // Sets the socket read and write timeout; a blocking read (XREADGROUP BLOCK) needs one longer
  // than its block time.
  [[nodiscard]] bool set_timeout(std::chrono::milliseconds timeout);

  [[nodiscard]] bool broken() const;
  // True when the last I/O failure was the read or write timeout running out, which resending
  // on a new connection would likely repeat.
  [[nodiscard]] bool timed_out() const { return timed_out_; }
  // What failed, with the URL; empty while the connection works.
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] const RedisUrl& url() const { return url_; }

 private:
  Connection(RedisUrl url, redisContext* context);
  void record_io_error();

  RedisUrl url_;
  redisContext* context_ = nullptr;
  std::string error_;
  bool timed_out_ = false;
  // Argument pointers and lengths for hiredis, reused between commands.
  std::vector<const char*> argv_;
  std::vector<std::size_t> argv_lengths_;
};

// Runs one command on `connection`, connecting first when it is null or broken. A Redis restart
// shows as an I/O failure on the next command of a connection opened before it. So when a command
// fails that way on a connection that had worked, and not by a timeout, this connects once more
// and resends the command (logged on the "redis" logger). Returns null with `error` set when that
// fails too. Only pass commands that are safe to run twice: Redis may have run the first one
// before the connection broke.
[[nodiscard]] Reply command_with_reconnect(std::unique_ptr<Connection>& connection,
                                           const RedisUrl& url, std::chrono::milliseconds timeout,
                                           std::initializer_list<std::string_view> args,
                                           std::string& error);

}  // namespace hft::redis
