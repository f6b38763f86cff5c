// BoundedQueue: the in-process queue between the HTTP threads (producers) and the one batch
// worker (consumer) of `hft serve`.
//
// Capacity is counted in weight units (the server uses one unit per order, so a batch request
// of 100 orders is one item of weight 100). A push either enqueues the whole item or returns
// kFull or kClosed, so a caller always learns whether its item was taken: nothing is dropped
// silently. Items leave in push order.
//
// Thread-safety: every member function may be called from any thread. One mutex guards the
// items. The consumer sleeps on a condition variable, and a producer notifies it only when it
// is sleeping, so a push under load costs one uncontended lock and no system call.
// Ownership: the queue owns the items between push and pop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

namespace hft::queue {

enum class PushResult : std::uint8_t {
  kOk,
  kFull,    // the item's weight does not fit in the free capacity; retry later
  kClosed,  // close() was called; the queue takes no more items
};

std::string_view to_string(PushResult result);

// Counters since construction, read by the server's /metrics endpoint.
struct QueueStats {
  std::uint64_t pushed_items = 0;
  std::uint64_t pushed_weight = 0;
  std::uint64_t rejected_full = 0;
  std::uint64_t popped_batches = 0;
  std::size_t depth_weight = 0;
  std::size_t capacity_weight = 0;
};

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity_weight) : capacity_weight_(capacity_weight) {}

  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Enqueues `item` if `weight` units are free. `before_insert(item)` runs under the queue's
  // lock just before the item is stored, so values it assigns (ids, sequence numbers) increase
  // in queue order. It must be short and must not touch the queue.
  template <typename BeforeInsert>
  [[nodiscard]] PushResult try_push(T&& item, std::size_t weight, BeforeInsert&& before_insert) {
    bool wake_consumer = false;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return PushResult::kClosed;
      if (weight > capacity_weight_ - depth_weight_) {
        ++stats_.rejected_full;
        return PushResult::kFull;
      }

      before_insert(item);
      items_.push_back(Entry{std::move(item), weight});
      depth_weight_ += weight;
      ++stats_.pushed_items;
      stats_.pushed_weight += weight;
      wake_consumer = consumer_waiting_ && depth_weight_ >= wake_weight_;
    }
    if (wake_consumer) ready_.notify_one();
    return PushResult::kOk;
  }

  [[nodiscard]] PushResult try_push(T&& item, std::size_t weight = 1) {
    return try_push(std::move(item), weight, [](T&) {});
  }

  // Moves items into `out` (appending) until their weight reaches `max_weight`; the first item
  // is taken even when it alone weighs more. Waits up to `idle_wait` for a first item, then up
  // to `fill_wait` for the batch to reach `max_weight`. Returns the weight taken: 0 when
  // `idle_wait` passed with nothing queued, or when the queue is closed and empty.
  std::size_t pop_batch(std::vector<T>& out, std::size_t max_weight,
                        std::chrono::nanoseconds fill_wait, std::chrono::nanoseconds idle_wait) {
    std::unique_lock lock(mutex_);

    // Sleep until the first item arrives.
    if (items_.empty() && !closed_) {
      wait_until(lock, std::chrono::steady_clock::now() + idle_wait, 1);
    }
    if (items_.empty()) return 0;

    // Give producers up to `fill_wait` to complete the batch.
    if (depth_weight_ < max_weight && fill_wait.count() > 0 && !closed_) {
      wait_until(lock, std::chrono::steady_clock::now() + fill_wait, max_weight);
    }

    std::size_t taken = 0;
    while (!items_.empty()) {
      Entry& front = items_.front();
      if (taken > 0 && taken + front.weight > max_weight) break;
      taken += front.weight;
      out.push_back(std::move(front.item));
      items_.pop_front();
    }
    depth_weight_ -= taken;
    ++stats_.popped_batches;
    return taken;
  }

  // Rejects every later push with kClosed and wakes the consumer, which still receives the
  // items already queued.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

  [[nodiscard]] std::size_t depth_weight() const {
    std::lock_guard lock(mutex_);
    return depth_weight_;
  }

  [[nodiscard]] std::size_t capacity_weight() const { return capacity_weight_; }

  [[nodiscard]] QueueStats stats() const {
    std::lock_guard lock(mutex_);
    QueueStats copy = stats_;
    copy.depth_weight = depth_weight_;
    copy.capacity_weight = capacity_weight_;
    return copy;
  }

 private:
  struct Entry {
    T item;
    std::size_t weight;
  };

  // Waits until `depth_weight_` reaches `weight`, the queue closes or `deadline` passes.
  void wait_until(std::unique_lock<std::mutex>& lock,
                  std::chrono::steady_clock::time_point deadline, std::size_t weight) {
    consumer_waiting_ = true;
    wake_weight_ = weight;
    ready_.wait_until(lock, deadline, [&] { return closed_ || depth_weight_ >= weight; });
    consumer_waiting_ = false;
  }

  const std::size_t capacity_weight_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Entry> items_;
  std::size_t depth_weight_ = 0;
  std::size_t wake_weight_ = 1;
  bool consumer_waiting_ = false;
  bool closed_ = false;
  QueueStats stats_;
};

}  // namespace hft::queue
