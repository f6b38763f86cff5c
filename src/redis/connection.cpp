#include "redis/connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>

#include <cerrno>

namespace hft::redis {

namespace {

timeval to_timeval(std::chrono::milliseconds duration) {
  timeval value{};
  value.tv_sec = static_cast<time_t>(duration.count() / 1000);
  value.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return value;
}

}  // namespace

std::string_view reply_text(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_STRING && reply.type != REDIS_REPLY_STATUS &&
      reply.type != REDIS_REPLY_ERROR) {
    return {};
  }
  return {reply.str, reply.len};
}

FailureKind classify_reply(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ERROR) return FailureKind::kNone;
  return reply_text(reply).starts_with("OOM") ? FailureKind::kFull : FailureKind::kError;
}

ConnectResult Connection::connect(const RedisUrl& url, std::chrono::milliseconds timeout) {
  redisContext* context = redisConnectWithTimeout(url.host.c_str(), url.port, to_timeval(timeout));
  if (context == nullptr) {
    return {nullptr,
            fmt::format("connecting to Redis at {} failed: out of memory", url.redacted())};
  }
  if (context->err != 0) {
    std::string error =
        fmt::format("connecting to Redis at {} failed: {}", url.redacted(), context->errstr);
    redisFree(context);
    return {nullptr, std::move(error)};
  }

  std::unique_ptr<Connection> connection(new Connection(url, context));
  if (!connection->set_timeout(timeout)) return {nullptr, connection->error()};
  redisEnableKeepAlive(context);

  // Each step's failure ends the attempt with Redis's own message, which names the cause
  // (WRONGPASS, NOAUTH, "DB index is out of range").
  auto run_step = [&](std::initializer_list<std::string_view> args,
                      std::string_view step) -> std::string {
    Reply reply = connection->command(args);
    if (!reply) return connection->error();
    if (reply->type == REDIS_REPLY_ERROR) {
      return fmt::format("{} on Redis at {} failed: {}", step, url.redacted(), reply_text(*reply));
    }
    return {};
  };
  if (!url.password.empty()) {
    std::string error = url.username.empty()
                            ? run_step({"AUTH", url.password}, "AUTH")
                            : run_step({"AUTH", url.username, url.password}, "AUTH");
    if (!error.empty()) return {nullptr, std::move(error)};
  }
  if (url.database != 0) {
    std::string database = std::to_string(url.database);
    std::string error = run_step({"SELECT", database}, "SELECT");
    if (!error.empty()) return {nullptr, std::move(error)};
  }
  return {std::move(connection), {}};
}

Connection::Connection(RedisUrl url, redisContext* context)
    : url_(std::move(url)), context_(context) {}

Connection::~Connection() { redisFree(context_); }

void Connection::record_io_error() {
  // hiredis 0.14 reports a socket timeout as REDIS_ERR_IO with errno EAGAIN.
  int saved_errno = errno;
  timed_out_ =
      context_->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
  const char* reason = context_->err != 0 ? context_->errstr : "no reply";
  if (timed_out_) reason = "timed out waiting for the reply";
  error_ = fmt::format("Redis at {}: {}", url_.redacted(), reason);
}

bool Connection::broken() const { return context_->err != 0 || !error_.empty(); }

bool Connection::set_timeout(std::chrono::milliseconds timeout) {
  if (redisSetTimeout(context_, to_timeval(timeout)) != REDIS_OK) {
    record_io_error();
    return false;
  }
  return true;
}

bool Connection::append(std::span<const std::string_view> args) {
  argv_.clear();
  argv_lengths_.clear();
  for (std::string_view arg : args) {
    argv_.push_back(arg.data());
    argv_lengths_.push_back(arg.size());
  }
  int status = redisAppendCommandArgv(context_, static_cast<int>(argv_.size()), argv_.data(),
                                      argv_lengths_.data());
  if (status != REDIS_OK) {
    record_io_error();
    return false;
  }
  return true;
}

Reply Connection::read_reply() {
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
    record_io_error();
    return nullptr;
  }
  return Reply(static_cast<redisReply*>(raw));
}

Reply Connection::command(std::span<const std::string_view> args) {
  if (!append(args)) return nullptr;
  return read_reply();
}

Reply Connection::command(std::initializer_list<std::string_view> args) {
  return command(std::span<const std::string_view>(args.begin(), args.size()));
}

Reply command_with_reconnect(std::unique_ptr<Connection>& connection, const RedisUrl& url,
                             std::chrono::milliseconds timeout,
                             std::initializer_list<std::string_view> args, std::string& error) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = connection && !connection->broken();
    if (!reused) {
      ConnectResult connected = Connection::connect(url, timeout);
      if (!connected.connection) {
        error = connected.error;
        return nullptr;
      }
      connection = std::move(connected.connection);
    }
    Reply reply = connection->command(args);
    if (reply) return reply;
    error = connection->error();
    if (!reused || connection->timed_out()) return nullptr;

    auto logger = spdlog::get("redis");
    (logger ? logger : spdlog::default_logger())
        ->info("{}; connecting again and resending {}", error, *args.begin());
  }
  return nullptr;
}

}  // namespace hft::redis
