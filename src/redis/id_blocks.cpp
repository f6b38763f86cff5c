#include "redis/id_blocks.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string_view>

namespace hft::redis {

namespace {

// KEYS[1] the counter, ARGV[1] the floor, ARGV[2] the block size. Returns the block's last id.
// Lua compares numbers as doubles, exact for ids below 2^53.
constexpr std::string_view kReserveScript = R"lua(
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('INCRBY', KEYS[1], ARGV[2])
)lua";

std::shared_ptr<spdlog::logger> logger() {
  auto found = spdlog::get("redis");
  return found ? found : spdlog::default_logger();
}

}  // namespace

IdBlockAllocator::IdBlockAllocator(IdBlockOptions options)
    : options_(std::move(options)), floor_(options_.floor) {}

IdBlockAllocator::~IdBlockAllocator() = default;

IdResult IdBlockAllocator::next() {
  std::lock_guard lock(mutex_);
  if (next_id_ == 0 || next_id_ > block_end_) {
    FailureKind failure = FailureKind::kNone;
    std::string error = reserve_block(failure);
    if (!error.empty()) return {std::nullopt, std::move(error), failure};
  }
  return {next_id_++, {}};
}

IdResult IdBlockAllocator::next_range(std::uint64_t count) {
  if (count == 0 || count > options_.block_size) {
    return {std::nullopt,
            fmt::format("{} consecutive order ids requested; 1 to the block size {} are possible",
                        count, options_.block_size),
            FailureKind::kError};
  }
  std::lock_guard lock(mutex_);
  if (next_id_ == 0 || block_end_ < next_id_ || block_end_ - next_id_ + 1 < count) {
    FailureKind failure = FailureKind::kNone;
    std::string error = reserve_block(failure);
    if (!error.empty()) return {std::nullopt, std::move(error), failure};
  }
  std::uint64_t first = next_id_;
  next_id_ += count;
  return {first, {}};
}

std::uint64_t IdBlockAllocator::blocks_reserved() const {
  std::lock_guard lock(mutex_);
  return blocks_reserved_;
}

std::string IdBlockAllocator::reserve_block(FailureKind& failure) {
  // Running the script twice after a broken connection only skips one block of ids.
  const std::string floor = std::to_string(floor_);
  const std::string size = std::to_string(options_.block_size);
  std::string error;
  Reply reply =
      command_with_reconnect(connection_, options_.url, options_.io_timeout,
                             {"EVAL", kReserveScript, "1", options_.key, floor, size}, error);
  if (!reply) {
    failure = FailureKind::kUnreachable;
    return error;
  }
  if (reply->type != REDIS_REPLY_INTEGER || reply->integer <= 0) {
    failure = reply->type == REDIS_REPLY_ERROR ? classify_reply(*reply) : FailureKind::kError;
    return fmt::format("reserving order ids at {} (key {}) failed: {}", options_.url.redacted(),
                       options_.key,
                       reply->type == REDIS_REPLY_ERROR ? reply_text(*reply)
                                                        : std::string_view("not an integer reply"));
  }

  const auto end = static_cast<std::uint64_t>(reply->integer);
  if (end < options_.block_size) {
    failure = FailureKind::kError;
    return fmt::format(
        "reserving order ids at {} (key {}) failed: the counter {} is below the "
        "block size {}; it was set by something else than hft",
        options_.url.redacted(), options_.key, end, options_.block_size);
  }
  next_id_ = end - options_.block_size + 1;
  block_end_ = end;
  floor_ = std::max(floor_, end);
  ++blocks_reserved_;
  logger()->debug("reserved order ids {}..{} at {}", next_id_, end, options_.url.redacted());
  return {};
}

}  // namespace hft::redis
