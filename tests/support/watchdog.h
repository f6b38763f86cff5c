// Watchdog: aborts the test binary with a message when a test outlives its time limit, so a hung
// call into a server (Redis, PostgreSQL, hft serve) fails the test instead of stalling the suite.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace hft::test {

class Watchdog {
 public:
  Watchdog(std::string name, std::chrono::seconds limit)
      : thread_([this, name = std::move(name), limit] {
          std::unique_lock lock(mutex_);
          if (cancel_.wait_for(lock, limit, [this] { return done_; })) return;
          std::fprintf(stderr, "watchdog: %s did not finish within %lld s\n", name.c_str(),
                       static_cast<long long>(limit.count()));
          std::abort();
        }) {}

  ~Watchdog() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    cancel_.notify_one();
    thread_.join();
  }

  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable cancel_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace hft::test
