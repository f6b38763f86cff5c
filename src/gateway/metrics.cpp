#include "gateway/metrics.h"

#include <fmt/format.h>

#include <iterator>

namespace hft::gateway {

Histogram::Histogram(std::initializer_list<double> upper_bounds)
    : upper_bounds_(upper_bounds),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds.size() + 1)) {
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double value) {
  std::size_t index = 0;
  while (index < upper_bounds_.size() && value > upper_bounds_[index]) ++index;
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
  }
}

void Histogram::render(std::string& out, std::string_view name, std::string_view help) const {
  auto sink = std::back_inserter(out);
  fmt::format_to(sink, "# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < upper_bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    fmt::format_to(sink, "{}_bucket{{le=\"{}\"}} {}\n", name, upper_bounds_[i], cumulative);
  }
  cumulative += buckets_[upper_bounds_.size()].load(std::memory_order_relaxed);
  fmt::format_to(sink, "{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
  fmt::format_to(sink, "{}_sum {}\n{}_count {}\n", name, sum_.load(std::memory_order_relaxed), name,
                 count_.load(std::memory_order_relaxed));
}

std::string_view to_string(GatewayReject reason) {
  switch (reason) {
    case GatewayReject::kInvalidJson:
      return "invalid_json";
    case GatewayReject::kInvalidField:
      return "invalid_field";
    case GatewayReject::kUnauthorized:
      return "unauthorized";
    case GatewayReject::kQueueFull:
      return "queue_full";
    case GatewayReject::kQueueUnavailable:
      return "queue_unavailable";
    case GatewayReject::kAccountStoreUnavailable:
      return "account_store_unavailable";
    case GatewayReject::kShuttingDown:
      return "shutting_down";
    case GatewayReject::kJournalFailed:
      return "journal_failed";
    case GatewayReject::kTooLarge:
      return "too_large";
    case GatewayReject::kCount:
      break;
  }
  return "unknown";
}

Metrics::Metrics()
    : batch_orders({1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}),
      matching_seconds({1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1}),
      durable_ack_seconds(
          {1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1}) {}

}  // namespace hft::gateway
