// Aggregation of `hft load` results: reads the clients' `JSON:` lines out of any log text,
// merges their latency histograms exactly and builds the report of `hft aggregate`, also used
// in process by `hft run`.
//
// `Aggregator` is not thread-safe; one thread feeds it lines. The free functions keep no state.
// Malformed input lines are counted in the report and never thrown. Threshold flags are
// validated before any input is read, so a typo fails at once.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "report/client_result.h"
#include "report/histogram.h"

namespace hft::report {

struct AggregateOptions {
  bool json = false;  // print the report as one JSON object instead of text
  // Number of clients that should have reported, 0 to skip the check. Client ids are expected
  // to be 1..N, or 0..N-1 when some client reports id 0 (a Kubernetes completion index).
  int expect_clients = 0;
  std::optional<double> min_throughput;  // successful orders per second over the whole run
  std::optional<double> max_p99_ms;      // p99 of the merged latency histogram
};

// The threshold flags as typed, before validation.
struct AggregateFlags {
  bool json = false;
  int expect_clients = 0;
  std::string min_throughput;
  std::string max_p99_ms;
};

// Registers --json, --expect-clients, --min-throughput and --max-p99-ms on `command`.
void add_aggregate_options(CLI::App& command, AggregateFlags& flags);

struct ThresholdParse {
  std::optional<double> value;
  std::string error;  // names the flag and the value when `value` is empty
};

// Parses a threshold: a plain non-negative decimal number ("10000", "2.5"); suffixes ("10k"),
// signs, NaN and infinity are rejected.
[[nodiscard]] ThresholdParse parse_threshold(std::string_view flag, std::string_view text);

// Validates `flags` into `options`. Returns an error message naming the flag and the value,
// or an empty string when every flag is valid. Callers exit with kExitUsage on an error.
[[nodiscard]] std::string resolve_aggregate_flags(const AggregateFlags& flags,
                                                  AggregateOptions& options);

// The status row for a total of successful orders per second: TARGET ACHIEVED (>= 10,000),
// EXCELLENT (>= 5,000), GOOD (>= 2,000), IMPROVEMENT (>= 1,074), INVESTIGATION NEEDED.
[[nodiscard]] std::string_view status_for_throughput(double orders_per_second);

struct AggregateReport {
  std::size_t clients = 0;
  std::uint64_t orders_sent = 0;
  std::uint64_t orders_success = 0;
  double success_rate = 0;  // orders_success / orders_sent, 0 when none was sent
  double throughput = 0;    // successful orders per second over `window_s`
  double sum_of_client_throughput = 0;
  double window_s = 0;                // union of the clients' active windows
  std::size_t window_periods = 0;     // separate periods in that union
  bool percentiles_merged = false;    // false when no client carried a histogram
  std::uint64_t latency_samples = 0;  // requests in the merged histogram
  LatencySummary latency;
  LatencySummary service_latency;
  ErrorCounts errors;
  std::string status;
  std::vector<std::string> missing_clients;
  std::vector<std::string> duplicate_clients;
  std::uint64_t unparsed_lines = 0;
  std::vector<std::string> warnings;
  std::vector<std::string> threshold_failures;  // one sentence per missed threshold
  std::vector<ClientResult> per_client;         // in order of first appearance

  [[nodiscard]] bool passed() const {
    return threshold_failures.empty() && missing_clients.empty() && clients > 0;
  }
};

class Aggregator {
 public:
  // Reads one line of input: a result line is added, a malformed one counted, other text
  // ignored.
  void add_line(std::string_view line);

  // Adds one client result; a client id seen before is recorded as a duplicate and ignored.
  void add_result(ClientResult result);

  [[nodiscard]] AggregateReport finish(const AggregateOptions& options) const;

 private:
  std::vector<ClientResult> results_;
  std::unordered_set<std::string> seen_ids_;
  std::vector<std::string> duplicates_;
  std::vector<std::string> parse_errors_;  // the first few, for the warnings
  std::uint64_t unparsed_lines_ = 0;
};

[[nodiscard]] std::string render_text(const AggregateReport& report);
[[nodiscard]] std::string render_json(const AggregateReport& report);

// The exit code for `report`: kExitOk, kExitThresholdMissed when a threshold was missed or an
// expected client is missing, kExitFailure when no client result was found.
[[nodiscard]] int exit_code_for(const AggregateReport& report);

// Reads every line of `in`, prints the report (text or JSON) to `out` and returns the exit code.
// `err` receives nothing today; it is kept for messages that must not mix with the report.
int aggregate_stream(std::istream& in, const AggregateOptions& options, std::ostream& out,
                     std::ostream& err);

// The same for files; "-" reads standard input. An unreadable file is reported on `err` and
// makes the result kExitFailure.
int aggregate_files(const std::vector<std::string>& paths, const AggregateOptions& options,
                    std::ostream& out, std::ostream& err);

}  // namespace hft::report
