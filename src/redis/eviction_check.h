// The start-up check that a Redis server never evicts keys. Under a memory limit with an
// eviction policy, Redis deletes whole keys when memory runs short, and an order stream is a key:
// every order queued in it would vanish without an error to anyone.
//
// A free function over a Connection that the caller owns; as thread-safe as that connection.
#pragma once

#include <cstdint>
#include <string>

#include "redis/connection.h"

namespace hft::redis {

enum class EvictionVerdict : std::uint8_t {
  kSafe,         // maxmemory-policy noeviction, or no memory limit (maxmemory 0)
  kEvicts,       // a memory limit together with any other policy
  kCheckFailed,  // CONFIG GET failed (I/O error, or CONFIG disabled or renamed by the server)
};

struct EvictionCheck {
  EvictionVerdict verdict = EvictionVerdict::kCheckFailed;
  std::string policy;  // the maxmemory-policy value as Redis reports it
  std::uint64_t maxmemory_bytes = 0;
  // For kEvicts and kCheckFailed: what is wrong, with the URL and what to change.
  std::string message;

  [[nodiscard]] bool safe() const { return verdict == EvictionVerdict::kSafe; }
};

// Reads `maxmemory` and `maxmemory-policy` with CONFIG GET and judges them.
[[nodiscard]] EvictionCheck check_eviction_policy(Connection& connection);

// Formats a byte count as Redis configuration writes it: "100mb", "2gb", "512kb" or "1000".
[[nodiscard]] std::string format_memory_size(std::uint64_t bytes);

}  // namespace hft::redis
