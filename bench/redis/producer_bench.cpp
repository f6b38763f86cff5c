// producer_bench: how many orders per second OrderProducer appends to a running Redis with
// pipelined XADD, counted from the first publish() to the last confirmation.
//
// Usage: producer_bench REDIS_URL [ORDERS] [PIPELINE_ENTRIES] [PAYLOAD_BYTES]
// Defaults: 200000 orders, 64 XADDs per round trip, 64-byte payloads. bench/redis/run.sh starts
// a redis-server and runs this next to redis-benchmark.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "redis/order_producer.h"

int main(int argc, char** argv) {
  using hft::redis::EnqueueStatus;
  using hft::redis::PublishOutcome;
  using hft::redis::PublishStatus;

  if (argc < 2) {
    std::fprintf(stderr, "usage: %s REDIS_URL [ORDERS] [PIPELINE_ENTRIES] [PAYLOAD_BYTES]\n",
                 argv[0]);
    return 2;
  }
  auto url = hft::redis::parse_redis_url(argv[1]);
  if (!url.ok()) {
    std::fprintf(stderr, "%s\n", url.error.c_str());
    return 2;
  }
  const std::uint64_t orders = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200'000;
  const std::size_t pipeline = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 64;
  const std::size_t payload_bytes = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 64;

  hft::redis::ProducerOptions options;
  options.url = *url.url;
  options.max_pipeline_entries = pipeline;
  options.max_queued_entries = 1 << 20;
  hft::redis::OrderProducer producer(options);

  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> failed{0};
  auto on_outcome = [&](const PublishOutcome& outcome) {
    if (outcome.status == PublishStatus::kAccepted) {
      accepted.fetch_add(1, std::memory_order_relaxed);
    } else {
      failed.fetch_add(1, std::memory_order_relaxed);
    }
  };
  const char* symbols[] = {"AAPL", "MSFT", "GOOG", "AMZN"};
  const std::string payload(payload_bytes, 'p');

  auto start = std::chrono::steady_clock::now();
  for (std::uint64_t id = 1; id <= orders; ++id) {
    hft::redis::OrderEntry entry{hft::engine::OrderId{id}, 2, symbols[id % 4], payload};
    while (producer.publish(entry, on_outcome) == EnqueueStatus::kQueueFull) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  producer.stop();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  auto stats = producer.stats();
  fmt::print(
      "producer_bench: {} orders, {} XADDs per round trip, {}-byte payloads: {:.0f} orders/s "
      "({:.3f} s, {} round trips, {} failed)\n",
      orders, pipeline, payload_bytes, static_cast<double>(accepted.load()) / seconds, seconds,
      stats.round_trips, failed.load());
  return failed.load() == 0 && accepted.load() == orders ? 0 : 1;
}
