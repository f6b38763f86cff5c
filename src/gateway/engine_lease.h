// EngineLease: keeps a second `hft serve --role engine` off the order streams of a Redis that
// already has one. Two engines in one consumer group would split the orders between two books
// and two journals, so orders of one symbol on different engines would never match.
//
// The lease is one Redis key, `hft:engine-lease`, holding "<engine id> <description>" with a
// time to live. The engine id comes from the file `engine.id` in the engine's data dir, created
// at its first start. The journal's lock keeps a data dir to one process, so a lease that names
// this engine's id belongs to an earlier run of this engine that died. A restart after SIGKILL
// therefore takes it over at once. Another engine is refused until the lease expires.
//
// A thread renews the lease every third of its time to live. If another engine holds it at a
// renewal (this one could not reach Redis for longer than the time to live), `on_lost` runs once.
//
// Thread-safety: acquire() and release() are called by the controlling thread; the renewal
// thread owns its own connection. Ownership: owns its thread and connections.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "redis/connection.h"
#include "redis/redis_url.h"

namespace hft::gateway {

inline constexpr std::string_view kEngineLeaseKey = "hft:engine-lease";

struct EngineLeaseOptions {
  redis::RedisUrl url;
  std::filesystem::path data_dir;
  std::chrono::milliseconds time_to_live{10'000};
};

class EngineLease {
 public:
  using LostCallback = std::function<void(const std::string& holder)>;

  explicit EngineLease(EngineLeaseOptions options);
  // Calls release().
  ~EngineLease();
  EngineLease(const EngineLease&) = delete;
  EngineLease& operator=(const EngineLease&) = delete;

  // Reads or creates the engine id, takes the lease and starts renewing it. Returns an empty
  // string on success, otherwise why not: another engine holds it (named with its description),
  // or Redis or the data dir failed.
  [[nodiscard]] std::string acquire(LostCallback on_lost);

  // Stops renewing and deletes the lease if this engine still holds it.
  void release();

  [[nodiscard]] const std::string& engine_id() const { return engine_id_; }

 private:
  // Sets the lease when it is free or names this engine. Returns an empty string on success and
  // the holder's value when another engine holds it; a failed round trip sets `error`.
  [[nodiscard]] std::string claim(redis::Connection& connection, std::string& error);
  void renew_loop();

  const EngineLeaseOptions options_;
  std::string engine_id_;
  std::string value_;  // "<engine id> <description>"
  LostCallback on_lost_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::atomic<bool> held_{false};
  std::thread thread_;
};

}  // namespace hft::gateway
