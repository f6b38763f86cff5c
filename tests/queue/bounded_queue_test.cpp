#include "queue/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace hft::queue {
namespace {

using namespace std::chrono_literals;

TEST(BoundedQueue, PushBeyondCapacityReturnsFull) {
  BoundedQueue<int> queue(3);

  EXPECT_EQ(queue.try_push(1, 2), PushResult::kOk);
  EXPECT_EQ(queue.try_push(2, 2), PushResult::kFull);
  EXPECT_EQ(queue.try_push(3, 1), PushResult::kOk);
  EXPECT_EQ(queue.depth_weight(), 3u);
  EXPECT_EQ(queue.stats().rejected_full, 1u);
}

TEST(BoundedQueue, PopBatchStopsAtMaxWeight) {
  BoundedQueue<int> queue(100);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(queue.try_push(int{i}, 1), PushResult::kOk);

  std::vector<int> out;
  EXPECT_EQ(queue.pop_batch(out, 4, 0ns, 0ns), 4u);
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(queue.depth_weight(), 6u);
}

TEST(BoundedQueue, HeavyFirstItemIsTakenAlone) {
  BoundedQueue<int> queue(100);
  ASSERT_EQ(queue.try_push(7, 50), PushResult::kOk);
  ASSERT_EQ(queue.try_push(8, 1), PushResult::kOk);

  std::vector<int> out;
  EXPECT_EQ(queue.pop_batch(out, 10, 0ns, 0ns), 50u);
  EXPECT_EQ(out, (std::vector<int>{7}));
}

TEST(BoundedQueue, EmptyPopTimesOut) {
  BoundedQueue<int> queue(10);
  std::vector<int> out;

  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(queue.pop_batch(out, 10, 0ns, 20ms), 0u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_TRUE(out.empty());
}

TEST(BoundedQueue, BeforeInsertRunsInQueueOrder) {
  BoundedQueue<std::uint64_t> queue(1'000'000);
  std::atomic<bool> go{false};
  std::uint64_t next_id = 1;
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 10'000; ++i) {
        auto result = queue.try_push(0, 1, [&](std::uint64_t& id) { id = next_id++; });
        ASSERT_EQ(result, PushResult::kOk);
      }
    });
  }
  go = true;
  for (auto& producer : producers) producer.join();

  std::vector<std::uint64_t> out;
  while (queue.pop_batch(out, 1000, 0ns, 0ns) > 0) {
  }
  ASSERT_EQ(out.size(), 40'000u);
  for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], i + 1);
}

TEST(BoundedQueue, ConsumerWakesForProducer) {
  BoundedQueue<int> queue(10);
  auto consumer = std::async(std::launch::async, [&] {
    std::vector<int> out;
    queue.pop_batch(out, 10, 0ns, 10s);
    return out;
  });
  std::this_thread::sleep_for(10ms);
  ASSERT_EQ(queue.try_push(42, 1), PushResult::kOk);

  ASSERT_EQ(consumer.wait_for(5s), std::future_status::ready) << "consumer did not wake";
  EXPECT_EQ(consumer.get(), (std::vector<int>{42}));
}

TEST(BoundedQueue, FillWaitCollectsLaterItems) {
  BoundedQueue<int> queue(10);
  ASSERT_EQ(queue.try_push(1, 1), PushResult::kOk);
  auto producer = std::async(std::launch::async, [&] {
    std::this_thread::sleep_for(5ms);
    return queue.try_push(2, 1);
  });

  std::vector<int> out;
  queue.pop_batch(out, 2, 2s, 0ns);
  EXPECT_EQ(producer.get(), PushResult::kOk);
  EXPECT_EQ(out, (std::vector<int>{1, 2}));
}

TEST(BoundedQueue, CloseRejectsPushesButDrainsItems) {
  BoundedQueue<int> queue(10);
  ASSERT_EQ(queue.try_push(1, 1), PushResult::kOk);
  queue.close();

  EXPECT_EQ(queue.try_push(2, 1), PushResult::kClosed);
  std::vector<int> out;
  EXPECT_EQ(queue.pop_batch(out, 10, 1s, 1s), 1u);
  EXPECT_EQ(queue.pop_batch(out, 10, 1s, 1s), 0u);
  EXPECT_EQ(out, (std::vector<int>{1}));
}

TEST(BoundedQueue, CloseWakesSleepingConsumer) {
  BoundedQueue<int> queue(10);
  auto consumer = std::async(std::launch::async, [&] {
    std::vector<int> out;
    return queue.pop_batch(out, 10, 0ns, 30s);
  });
  std::this_thread::sleep_for(10ms);
  queue.close();

  ASSERT_EQ(consumer.wait_for(5s), std::future_status::ready) << "close did not wake consumer";
  EXPECT_EQ(consumer.get(), 0u);
}

}  // namespace
}  // namespace hft::queue
