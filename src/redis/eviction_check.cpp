#include "redis/eviction_check.h"

#include <fmt/format.h>

#include <charconv>
#include <optional>

namespace hft::redis {

namespace {

// The value of one parameter from CONFIG GET, which replies with [name, value].
std::optional<std::string> config_get(Connection& connection, std::string_view name,
                                      std::string& error) {
  Reply reply = connection.command({"CONFIG", "GET", name});
  if (!reply) {
    error = connection.error();
    return std::nullopt;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    error = std::string(reply_text(*reply));
    return std::nullopt;
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[1]->type != REDIS_REPLY_STRING) {
    error = fmt::format("no value for {}", name);
    return std::nullopt;
  }
  return std::string(reply_text(*reply->element[1]));
}

}  // namespace

std::string format_memory_size(std::uint64_t bytes) {
  constexpr std::uint64_t kKb = 1024;
  if (bytes != 0 && bytes % (kKb * kKb * kKb) == 0) return fmt::format("{}gb", bytes >> 30);
  if (bytes != 0 && bytes % (kKb * kKb) == 0) return fmt::format("{}mb", bytes >> 20);
  if (bytes != 0 && bytes % kKb == 0) return fmt::format("{}kb", bytes >> 10);
  return std::to_string(bytes);
}

EvictionCheck check_eviction_policy(Connection& connection) {
  EvictionCheck check;
  const std::string url = connection.url().redacted();
  std::string error;

  auto failed = [&](std::string_view what) {
    check.verdict = EvictionVerdict::kCheckFailed;
    check.message = fmt::format(
        "could not read {} from Redis at {} ({}); the queue needs CONFIG GET to verify that "
        "Redis does not evict keys",
        what, url, error);
    return check;
  };

  auto memory_text = config_get(connection, "maxmemory", error);
  if (!memory_text) return failed("maxmemory");
  auto policy = config_get(connection, "maxmemory-policy", error);
  if (!policy) return failed("maxmemory-policy");

  auto [end, parse_error] = std::from_chars(
      memory_text->data(), memory_text->data() + memory_text->size(), check.maxmemory_bytes);
  if (parse_error != std::errc() || end != memory_text->data() + memory_text->size()) {
    error = fmt::format("maxmemory is '{}', not a byte count", *memory_text);
    return failed("maxmemory");
  }
  check.policy = std::move(*policy);

  if (check.policy == "noeviction" || check.maxmemory_bytes == 0) {
    check.verdict = EvictionVerdict::kSafe;
    return check;
  }
  check.verdict = EvictionVerdict::kEvicts;
  check.message = fmt::format(
      "Redis at {} evicts keys (maxmemory-policy {}, maxmemory {}): queued orders could be "
      "dropped silently; set maxmemory-policy noeviction",
      url, check.policy, format_memory_size(check.maxmemory_bytes));
  return check;
}

}  // namespace hft::redis
