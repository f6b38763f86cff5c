// Single-threaded benchmarks of the matching engine. Every workload is generated from a fixed
// seed before timing starts, so runs are comparable.
//
//   LiquibookInsert: Liquibook's insert workload. Orders alternate buy and sell, with quantities
//     of 100 to 1000. Buys are priced uniformly in [1880, 1889] and sells in [1884, 1893], a band
//     of 14 ticks in which about half the orders cross. The engine is rebuilt every 2^20 orders,
//     because bids below 1884 never trade and would pile up.
//   DeepBook: 100,000 resting orders over 1,000 levels (500 per side, none crossing), then random
//     amends (half change the price, half the quantity) and cancels, each cancel followed by a new
//     order in the same place so the book keeps its size. Every engine call counts as one
//     operation. Like a batch worker, the loop calls `Engine::prefetch` a few operations ahead.
//   MixedStream: 80% amend, 9% new limit, 6% cancel, 3% IOC and 2% market orders against a book
//     that starts with 10,000 orders, each operation timed alone with the TSC (lfence, rdtsc);
//     reports p50, p99, p99.9 and maximum latency in nanoseconds, and the timer's own cost.
#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/engine.h"

namespace hft::engine {
namespace {

constexpr std::string_view kSymbol = "BENCH";

// SplitMix64: a small, fast generator with a fixed sequence per seed.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  std::int64_t uniform(std::int64_t low, std::int64_t high) {
    return low + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(high - low + 1));
  }

 private:
  std::uint64_t state_;
};

class CountingSink final : public EventSink {
 public:
  void on_trade(const Trade& trade) override {
    ++trades;
    volume_lots += trade.quantity.lots;
  }

  std::uint64_t trades = 0;
  std::int64_t volume_lots = 0;
};

EngineConfig bench_config(std::size_t expected_orders) {
  EngineConfig config;
  config.expected_resting_orders = expected_orders;
  return config;
}

NewOrder limit_order(std::uint64_t id, std::uint64_t user, Side side, std::int64_t price,
                     std::int64_t lots, OrderType type = OrderType::kLimit) {
  NewOrder order;
  order.id = OrderId{id};
  order.user = UserId{user};
  order.symbol = kSymbol;
  order.side = side;
  order.type = type;
  order.price = Price{price};
  order.quantity = Quantity{lots};
  return order;
}

// --- Liquibook insert workload -----------------------------------------------------------------

void BM_LiquibookInsert(benchmark::State& state) {
  constexpr std::size_t kOrders = 1 << 20;
  Random random(42);
  std::vector<NewOrder> orders;
  orders.reserve(kOrders);
  for (std::size_t i = 0; i < kOrders; ++i) {
    const bool buy = i % 2 == 0;
    const std::int64_t price = (buy ? 1880 : 1884) + random.uniform(0, 9);
    // Buyers and sellers come from separate pools of 500 users, so no order meets its own user.
    const std::uint64_t user = (buy ? 1 : 501) + random.next() % 500;
    orders.push_back(limit_order(i + 1, user, buy ? Side::kBuy : Side::kSell, price,
                                 random.uniform(1, 10) * 100));
  }

  auto engine = std::make_unique<Engine>(bench_config(kOrders));
  CountingSink sink;
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == kOrders) {
      state.PauseTiming();
      engine = std::make_unique<Engine>(bench_config(kOrders));
      next = 0;
      state.ResumeTiming();
    }
    Status status = engine->submit(orders[next++], sink);
    benchmark::DoNotOptimize(status);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["trades_per_order"] =
      static_cast<double>(sink.trades) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_LiquibookInsert);

// --- Deep book: cancels and amends at any depth ------------------------------------------------

void BM_DeepBook(benchmark::State& state) {
  constexpr std::size_t kResting = 100'000;
  constexpr std::int64_t kLevelsPerSide = 500;
  constexpr std::int64_t kMid = 100'000;
  constexpr std::size_t kOperations = 1 << 20;
  constexpr std::size_t kSlotPrefetchDistance = 16;
  constexpr std::size_t kIdPrefetchDistance = 4;

  struct Slot {
    std::uint64_t id;
    std::uint64_t user;
    Side side;
    std::int64_t price;
  };
  struct Operation {
    std::uint32_t slot;
    bool cancel;
    bool change_price;
    std::int64_t level;
    std::int64_t lots;
  };
  const auto price_of = [](Side side, std::int64_t level) {
    return side == Side::kBuy ? kMid - 1 - level : kMid + 1 + level;
  };

  Random random(7);
  Engine engine(bench_config(kResting * 2));
  CountingSink sink;
  std::vector<Slot> slots;
  slots.reserve(kResting);
  std::uint64_t next_id = 1;
  for (std::size_t i = 0; i < kResting; ++i) {
    const Side side = i % 2 == 0 ? Side::kBuy : Side::kSell;
    const auto level = static_cast<std::int64_t>((i / 2) % kLevelsPerSide);
    const Slot slot{next_id++, 1 + random.next() % 1000, side, price_of(side, level)};
    (void)engine.submit(limit_order(slot.id, slot.user, side, slot.price, random.uniform(1, 100)),
                        sink);
    slots.push_back(slot);
  }

  std::vector<Operation> operations;
  operations.reserve(kOperations);
  for (std::size_t i = 0; i < kOperations; ++i) {
    operations.push_back(Operation{static_cast<std::uint32_t>(random.next() % kResting),
                                   random.next() % 5 < 2, random.next() % 2 == 0,
                                   random.uniform(0, kLevelsPerSide - 1), random.uniform(1, 100)});
  }

  std::size_t next = 0;
  std::int64_t calls = 0;
  for (auto _ : state) {
    // The harness's own slots take 3 MiB of random accesses. Loading them ahead keeps the
    // harness's cache misses out of the figures, which then show the engine's.
    __builtin_prefetch(&slots[operations[(next + kSlotPrefetchDistance) % kOperations].slot]);
    // A batch worker has the ids of its next requests, so it can have the engine load their
    // orders early.
    engine.prefetch(OrderId{slots[operations[(next + kIdPrefetchDistance) % kOperations].slot].id});
    const Operation& operation = operations[next];
    next = (next + 1) % kOperations;
    Slot& slot = slots[operation.slot];
    if (operation.cancel) {
      Status cancelled = engine.cancel(OrderId{slot.id}, UserId{slot.user}, sink);
      benchmark::DoNotOptimize(cancelled);
      slot.id = next_id++;
      slot.price = price_of(slot.side, operation.level);
      Status added = engine.submit(
          limit_order(slot.id, slot.user, slot.side, slot.price, operation.lots), sink);
      benchmark::DoNotOptimize(added);
      calls += 2;
    } else {
      // Half of the amends keep the price, so the order stays in its level.
      if (operation.change_price) slot.price = price_of(slot.side, operation.level);
      Status amended = engine.amend(OrderId{slot.id}, UserId{slot.user}, Price{slot.price},
                                    Quantity{operation.lots}, sink);
      benchmark::DoNotOptimize(amended);
      calls += 1;
    }
  }
  state.SetItemsProcessed(calls);
  state.counters["resting_orders"] = static_cast<double>(engine.stats().resting_orders);
  state.counters["trades"] = static_cast<double>(sink.trades);
}
BENCHMARK(BM_DeepBook);

// --- Mixed stream with per-operation latency ---------------------------------------------------

// Keeps the ids of orders that still rest, so amends and cancels target live orders. During an
// engine call it only copies the events it needs into a small reused buffer. `apply` updates the
// live set after the timer stops, so the latency figures exclude the harness's random accesses to
// its own 8 MiB id table.
class LiveOrders final : public EventSink {
 public:
  struct Entry {
    std::uint64_t id;
    std::uint64_t user;
    Side side;
    std::int64_t price;
  };

  explicit LiveOrders(std::size_t max_id) : position_(max_id + 1, kAbsent) {
    recorded_.reserve(64);
  }

  void on_accepted(const OrderAccepted& event) override {
    recorded_.push_back(Recorded{Recorded::kAccepted, event.id.value, event.user.value, event.side,
                                 event.price.ticks, false});
  }
  void on_amended(const OrderAmended& event) override {
    recorded_.push_back(Recorded{Recorded::kAmended, event.id.value, event.user.value, Side::kBuy,
                                 event.price.ticks, false});
  }
  void on_update(const OrderUpdate& event) override {
    recorded_.push_back(Recorded{Recorded::kUpdate, event.id.value, event.user.value, Side::kBuy, 0,
                                 event.remaining.lots > 0});
  }

  // Applies the events recorded since the last call to the live set.
  void apply() {
    for (const Recorded& event : recorded_) {
      if (event.kind == Recorded::kAccepted) {
        pending_ = Entry{event.id, event.user, event.side, event.price};
      } else if (event.kind == Recorded::kAmended) {
        const std::uint32_t index = position_[event.id];
        if (index != kAbsent) entries_[index].price = event.price;
      } else {
        apply_update(event.id, event.resting);
      }
    }
    recorded_.clear();
  }

  [[nodiscard]] bool empty() const { return entries_.empty(); }
  [[nodiscard]] const Entry& pick(std::uint64_t random) const {
    return entries_[random % entries_.size()];
  }

 private:
  static constexpr std::uint32_t kAbsent = 0xFFFFFFFF;

  struct Recorded {
    enum Kind : std::uint8_t { kAccepted, kAmended, kUpdate };
    Kind kind;
    std::uint64_t id;
    std::uint64_t user;
    Side side;
    std::int64_t price;
    bool resting;
  };

  void apply_update(std::uint64_t id, bool resting) {
    const std::uint32_t index = position_[id];
    if (!resting && index != kAbsent) {
      position_[entries_.back().id] = index;
      entries_[index] = entries_.back();
      entries_.pop_back();
      position_[id] = kAbsent;
    } else if (resting && index == kAbsent && pending_.id == id) {
      position_[id] = static_cast<std::uint32_t>(entries_.size());
      entries_.push_back(pending_);
    }
  }

  std::vector<Recorded> recorded_;
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> position_;
  Entry pending_{};
};

// TSC ticks per nanosecond, measured against steady_clock over about 50 ms.
double tsc_ticks_per_ns() {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::uint64_t tsc_start = __rdtsc();
  while (std::chrono::steady_clock::now() - wall_start < std::chrono::milliseconds(50)) {
  }
  const std::uint64_t tsc_end = __rdtsc();
  const auto elapsed = std::chrono::steady_clock::now() - wall_start;
  return static_cast<double>(tsc_end - tsc_start) /
         static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
}

inline std::uint64_t fenced_tsc() {
  _mm_lfence();
  const std::uint64_t ticks = __rdtsc();
  _mm_lfence();
  return ticks;
}

void BM_MixedStream(benchmark::State& state) {
  constexpr std::size_t kInitial = 10'000;
  constexpr std::size_t kOperations = 2'000'000;
  constexpr std::int64_t kMid = 10'000;
  constexpr std::size_t kMaxId = kInitial + kOperations + 1;

  Random random(99);
  std::vector<std::uint32_t> latency_ticks;
  latency_ticks.reserve(kOperations);
  const double ticks_per_ns = tsc_ticks_per_ns();

  for (auto _ : state) {
    Engine engine(bench_config(1 << 16));
    LiveOrders live(kMaxId);
    std::uint64_t next_id = 1;
    for (std::size_t i = 0; i < kInitial; ++i) {
      const Side side = i % 2 == 0 ? Side::kBuy : Side::kSell;
      const std::int64_t offset = random.uniform(1, 50);
      (void)engine.submit(
          limit_order(next_id++, 1 + random.next() % 100, side,
                      side == Side::kBuy ? kMid - offset : kMid + offset, random.uniform(1, 100)),
          live);
      live.apply();
    }

    latency_ticks.clear();
    for (std::size_t i = 0; i < kOperations; ++i) {
      const std::uint64_t kind = random.next() % 100;
      const std::uint64_t pick = random.next();
      const std::uint64_t user = 1 + random.next() % 100;
      const Side side = random.next() % 2 == 0 ? Side::kBuy : Side::kSell;
      const std::int64_t lots = random.uniform(1, 100);
      const std::int64_t step = random.uniform(-2, 2);
      const bool crossing = random.next() % 5 == 0;
      const std::int64_t distance = crossing ? -random.uniform(0, 5) : random.uniform(1, 50);
      if ((kind < 80 || (kind >= 89 && kind < 95)) && live.empty()) continue;

      std::uint64_t start = 0;
      std::uint64_t end = 0;
      if (kind < 80) {
        // Amend: move the order up to 2 ticks, staying on its side of the middle, and change its
        // quantity.
        const LiveOrders::Entry target = live.pick(pick);
        const std::int64_t moved = target.side == Side::kBuy
                                       ? std::clamp(target.price + step, kMid - 50, kMid - 1)
                                       : std::clamp(target.price + step, kMid + 1, kMid + 50);
        start = fenced_tsc();
        Status status = engine.amend(OrderId{target.id}, UserId{target.user}, Price{moved},
                                     Quantity{lots}, live);
        end = fenced_tsc();
        benchmark::DoNotOptimize(status);
      } else if (kind >= 89 && kind < 95) {
        const LiveOrders::Entry target = live.pick(pick);
        start = fenced_tsc();
        Status status = engine.cancel(OrderId{target.id}, UserId{target.user}, live);
        end = fenced_tsc();
        benchmark::DoNotOptimize(status);
      } else {
        // New orders: limits mostly rest (one in five crosses the middle); IOC and market orders
        // take liquidity.
        OrderType type = OrderType::kLimit;
        std::int64_t price = side == Side::kBuy ? kMid - distance : kMid + distance;
        std::int64_t order_lots = lots;
        if (kind >= 95) {
          type = kind < 98 ? OrderType::kIoc : OrderType::kMarket;
          price = side == Side::kBuy ? kMid + 10 : kMid - 10;
          order_lots = 1 + lots / 5;
        }
        const NewOrder order = limit_order(next_id++, user, side, price, order_lots, type);
        start = fenced_tsc();
        Status status = engine.submit(order, live);
        end = fenced_tsc();
        benchmark::DoNotOptimize(status);
      }
      live.apply();
      latency_ticks.push_back(static_cast<std::uint32_t>(end - start));
    }
    state.counters["resting_orders"] = static_cast<double>(engine.stats().resting_orders);
    state.counters["trades"] = static_cast<double>(engine.stats().trades);
  }

  // The cost of the timer itself, for reading the figures below.
  std::vector<std::uint32_t> empty_ticks(100'000);
  for (std::uint32_t& ticks : empty_ticks) {
    const std::uint64_t start = fenced_tsc();
    ticks = static_cast<std::uint32_t>(fenced_tsc() - start);
  }
  const auto percentile_ns = [&](std::vector<std::uint32_t>& ticks, double fraction) {
    const auto rank = static_cast<std::size_t>(fraction * static_cast<double>(ticks.size() - 1));
    std::nth_element(ticks.begin(), ticks.begin() + static_cast<std::ptrdiff_t>(rank), ticks.end());
    return static_cast<double>(ticks[rank]) / ticks_per_ns;
  };

  state.SetItemsProcessed(static_cast<std::int64_t>(latency_ticks.size() * state.iterations()));
  state.counters["p50_ns"] = percentile_ns(latency_ticks, 0.50);
  state.counters["p99_ns"] = percentile_ns(latency_ticks, 0.99);
  state.counters["p999_ns"] = percentile_ns(latency_ticks, 0.999);
  state.counters["max_ns"] = percentile_ns(latency_ticks, 1.0);
  state.counters["timer_ns"] = percentile_ns(empty_ticks, 0.50);
}
BENCHMARK(BM_MixedStream)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hft::engine

BENCHMARK_MAIN();
