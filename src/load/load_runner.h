// LoadRunner: sends orders over keep-alive HTTP/1.1 connections for a fixed duration and
// measures them, in closed loop (each connection sends its next request when the reply
// arrives) or open loop (requests due on a fixed timetable, latency counted from the due time
// so that a slow server cannot hide its queueing: coordinated omission is corrected).
//
// One thread: `run()` drives every connection with one Boost.Asio io_context on the calling
// thread and returns when the run and the wait for replies still in flight are over. The runner
// owns its sockets; the generator is borrowed for the run. Network failures are counted in
// `RunStats::errors`, never thrown; `run()` throws only std::bad_alloc.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "load/order_generator.h"
#include "report/client_result.h"
#include "report/histogram.h"

namespace hft::load {

struct RunSettings {
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;  // tried in order on each connect
  std::string host_header;                                // "host:port"
  std::string path_prefix;                                // prepended to /api/..., may be empty
  std::string access_token;
  std::string client_id;
  int connections = 1;
  double rate = 0;  // orders per second over all connections; 0: closed loop
  int batch = 1;
  std::chrono::milliseconds timeout{5000};
  std::chrono::nanoseconds duration{std::chrono::seconds(60)};
  bool live_progress = false;  // rewrite one progress line (a terminal) instead of appending
};

struct RunStats {
  std::int64_t start_unix_ns = 0;
  std::int64_t end_unix_ns = 0;
  double window_s = 0;       // from the first send to the end of the wait for replies
  double send_window_s = 0;  // from the first send to the end of the duration
  std::uint64_t orders_sent = 0;
  std::uint64_t orders_success = 0;
  std::uint64_t requests_sent = 0;
  std::uint64_t cancels_sent = 0;
  std::uint64_t cancels_success = 0;
  std::uint64_t orders_scheduled = 0;  // open loop: orders due before the end of the duration
  std::uint64_t orders_behind_schedule = 0;
  report::ErrorCounts errors;
  // Latency of order requests in microseconds: from the due time, and from the actual send.
  report::Histogram latency_us;
  report::Histogram service_latency_us;
  double latency_sum_us = 0;
  double service_latency_sum_us = 0;
  std::int64_t latency_max_us = 0;
  std::int64_t service_latency_max_us = 0;
};

class LoadRunner {
 public:
  LoadRunner(RunSettings settings, OrderGenerator& generator, std::ostream& progress);
  ~LoadRunner();
  LoadRunner(const LoadRunner&) = delete;
  LoadRunner& operator=(const LoadRunner&) = delete;

  [[nodiscard]] RunStats run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hft::load
