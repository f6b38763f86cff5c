// Metrics: the server's counters and histograms, rendered in the Prometheus text format by
// GET /metrics.
//
// Thread-safety: every member may be updated from any thread; counters are relaxed atomics, so
// a scrape reads each value whole but not the set as one snapshot.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/types.h"

namespace hft::gateway {

// A histogram with fixed upper bounds; values above the last bound land in +Inf.
class Histogram {
 public:
  explicit Histogram(std::initializer_list<double> upper_bounds);

  void observe(double value);
  // Appends the _bucket, _sum and _count lines of metric `name`.
  void render(std::string& out, std::string_view name, std::string_view help) const;

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // per bucket, not cumulative
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// The reason the gateway rejected a request before it reached the engine.
enum class GatewayReject : std::uint8_t {
  kInvalidJson,
  kInvalidField,
  kUnauthorized,
  kQueueFull,
  kQueueUnavailable,         // Redis unreachable or full
  kAccountStoreUnavailable,  // the caller's account could not be loaded from Redis
  kShuttingDown,
  kJournalFailed,
  kTooLarge,
  kCount,
};

[[nodiscard]] std::string_view to_string(GatewayReject reason);

inline constexpr std::size_t kEngineRejectReasons =
    static_cast<std::size_t>(engine::RejectReason::kFokNotFillable) + 1;

struct Metrics {
  Metrics();

  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::int64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_timed_out{0};

  std::atomic<std::uint64_t> orders_received{0};
  std::atomic<std::uint64_t> orders_queued{0};
  std::atomic<std::uint64_t> orders_accepted{0};  // accepted by the engine
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(GatewayReject::kCount)>
      gateway_rejects{};
  std::array<std::atomic<std::uint64_t>, kEngineRejectReasons> engine_rejects{};
  std::atomic<std::uint64_t> trades{0};
  std::atomic<std::uint64_t> cancels_requested{0};

  std::atomic<std::uint64_t> batches{0};
  // Waits of the batch worker for space in the PostgreSQL writer's queue.
  std::atomic<std::uint64_t> db_queue_full_waits{0};
  Histogram batch_orders;
  Histogram matching_seconds;     // engine time per batch
  Histogram durable_ack_seconds;  // from enqueue to the fsync that covers the command

  void reject(GatewayReject reason, std::uint64_t count = 1) {
    gateway_rejects[static_cast<std::size_t>(reason)].fetch_add(count, std::memory_order_relaxed);
  }
  void reject(engine::RejectReason reason) {
    engine_rejects[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace hft::gateway
