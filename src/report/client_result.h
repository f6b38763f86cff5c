// ClientResult: the result of one `hft load` client, written by the client as its one `JSON:`
// line and read back by `hft aggregate`.
//
// The first six fields (client_id, orders_sent, orders_success, throughput, avg_latency,
// max_latency) are the ones older aggregators read, in that order. A line that carries only
// those six parses with `legacy` set; its window, errors and histograms are then unknown.
// Plain values, no shared state: thread-safe as any struct. Parsing returns a reason code and
// never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hft::report {

inline constexpr int kResultFormatVersion = 1;

// Failed requests and orders by cause.
struct ErrorCounts {
  std::uint64_t connect = 0;   // connection attempts that failed
  std::uint64_t timeout = 0;   // requests without a complete reply within the timeout
  std::uint64_t http_4xx = 0;  // requests answered with a 4xx status
  std::uint64_t http_5xx = 0;  // requests answered with a 5xx status
  std::uint64_t rejected = 0;  // orders refused inside a 2xx batch reply, or marked REJECTED
  std::uint64_t io = 0;        // connections reset or closed while a request was in flight
  std::uint64_t protocol = 0;  // replies that are not valid HTTP/1.1 or use chunked encoding

  [[nodiscard]] std::uint64_t total() const {
    return connect + timeout + http_4xx + http_5xx + rejected + io + protocol;
  }
  void add(const ErrorCounts& other);
};

// Latency percentiles in milliseconds.
struct LatencySummary {
  double p50 = 0;
  double p90 = 0;
  double p99 = 0;
  double p999 = 0;
  double max = 0;
  double mean = 0;
};

struct ClientResult {
  int version = kResultFormatVersion;
  std::string client_id;
  std::uint64_t orders_sent = 0;
  std::uint64_t orders_success = 0;
  double throughput = 0;      // successful orders per second of the active window
  double avg_latency_ms = 0;  // same as latency.mean
  double max_latency_ms = 0;  // same as latency.max

  // Active window: from the first request to the end of the run, Unix time in nanoseconds.
  std::int64_t start_unix_ns = 0;
  std::int64_t end_unix_ns = 0;
  double duration_s = 0;
  bool open_loop = false;
  double target_rate = 0;  // orders per second in open loop, 0 in closed loop
  int connections = 0;
  int batch = 1;
  ErrorCounts errors;
  LatencySummary latency;          // from the scheduled send time in open loop
  LatencySummary service_latency;  // from the actual send time
  std::string histogram;           // HdrHistogram V2 compressed Base64, microseconds
  std::string service_histogram;   // the same for service latency; empty in closed loop

  // Fields beyond the fixed ones.
  std::string profile;
  std::uint64_t requests_sent = 0;
  std::uint64_t cancels_sent = 0;
  std::uint64_t cancels_success = 0;
  double achieved_rate = 0;                  // orders sent per second of the window
  bool rate_kept = true;                     // open loop: the timetable was kept
  std::uint64_t orders_behind_schedule = 0;  // open loop: due but never sent

  bool legacy = false;  // parsed from a line that has only the six original fields
};

// Formats `result` as one line: "JSON:" followed by the object, no newline.
[[nodiscard]] std::string format_result_line(const ClientResult& result);

enum class LineParse {
  kNotAResult,  // no "JSON:" marker: other log text
  kParsed,
  kMalformed,  // a "JSON:" marker followed by invalid JSON or missing required fields
};

struct ParsedLine {
  LineParse status = LineParse::kNotAResult;
  ClientResult result;
  std::string error;  // why a kMalformed line was rejected
};

// Parses a line that may carry a `kubectl logs --prefix` prefix ("[pod/x/c] JSON:{...}") or any
// other text before the "JSON:" marker. Required fields: client_id, orders_sent, orders_success
// and throughput.
[[nodiscard]] ParsedLine parse_result_line(std::string_view line);

}  // namespace hft::report
