#include "report/aggregate.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <set>
#include <unordered_map>

#include "common/exit_codes.h"
#include "common/json_writer.h"

namespace hft::report {
namespace {

constexpr std::size_t kParseErrorsKept = 3;
constexpr double kNanosPerSecond = 1e9;
constexpr double kMicrosPerMilli = 1000.0;
// Start times further apart than this share of the median window suggest clients that did not
// start together or clocks that are not synchronised.
constexpr double kStartSpreadWarningShare = 0.10;
constexpr double kStartSpreadWarningMinS = 1.0;
// An end time this far past the aggregator's clock can only come from a skewed clock.
constexpr double kFutureEndWarningS = 300.0;

struct Window {
  std::int64_t start_ns;
  std::int64_t end_ns;
};

LatencySummary summarize(const Histogram& histogram) {
  LatencySummary summary;
  summary.p50 = static_cast<double>(histogram.value_at_percentile(50.0)) / kMicrosPerMilli;
  summary.p90 = static_cast<double>(histogram.value_at_percentile(90.0)) / kMicrosPerMilli;
  summary.p99 = static_cast<double>(histogram.value_at_percentile(99.0)) / kMicrosPerMilli;
  summary.p999 = static_cast<double>(histogram.value_at_percentile(99.9)) / kMicrosPerMilli;
  summary.max = static_cast<double>(histogram.max()) / kMicrosPerMilli;
  summary.mean = histogram.mean() / kMicrosPerMilli;
  return summary;
}

std::optional<std::int64_t> numeric_id(const std::string& id) {
  std::int64_t value = 0;
  const char* end = id.data() + id.size();
  auto [ptr, error] = std::from_chars(id.data(), end, value);
  if (error != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string thousands(double value, int decimals) {
  std::string text = fmt::format("{:.{}f}", value, decimals);
  std::size_t digits_begin = text.front() == '-' ? 1 : 0;
  std::size_t integer_end = std::min(text.find('.'), text.size());
  std::string out = text.substr(0, digits_begin);
  for (std::size_t i = digits_begin; i < integer_end; ++i) {
    if (i > digits_begin && (integer_end - i) % 3 == 0) out.push_back(',');
    out.push_back(text[i]);
  }
  out.append(text, integer_end, std::string::npos);
  return out;
}

std::string thousands(std::uint64_t value) { return thousands(static_cast<double>(value), 0); }

// Merges the windows into their union; returns the covered nanoseconds and the periods.
std::pair<std::int64_t, std::size_t> union_of(std::vector<Window> windows) {
  std::sort(windows.begin(), windows.end(),
            [](const Window& a, const Window& b) { return a.start_ns < b.start_ns; });
  std::int64_t covered_ns = 0;
  std::size_t periods = 0;
  std::size_t i = 0;
  while (i < windows.size()) {
    std::int64_t start = windows[i].start_ns;
    std::int64_t end = windows[i].end_ns;
    for (++i; i < windows.size() && windows[i].start_ns <= end; ++i) {
      end = std::max(end, windows[i].end_ns);
    }
    covered_ns += end - start;
    ++periods;
  }
  return {covered_ns, periods};
}

void check_windows(const std::vector<Window>& windows, std::size_t periods, double window_s,
                   std::vector<std::string>& warnings) {
  if (windows.empty()) return;

  std::int64_t first_start = windows.front().start_ns;
  std::int64_t last_start = first_start;
  std::int64_t first_end = windows.front().end_ns;
  std::int64_t last_end = first_end;
  std::vector<double> durations_s;
  for (const Window& window : windows) {
    first_start = std::min(first_start, window.start_ns);
    last_start = std::max(last_start, window.start_ns);
    first_end = std::min(first_end, window.end_ns);
    last_end = std::max(last_end, window.end_ns);
    durations_s.push_back(static_cast<double>(window.end_ns - window.start_ns) / kNanosPerSecond);
  }

  // Periods separated by gaps: the gaps are excluded from the throughput.
  if (periods > 1) {
    double span_s = static_cast<double>(last_end - first_start) / kNanosPerSecond;
    warnings.push_back(fmt::format(
        "Client windows do not overlap: they form {} separate periods with {:.3f} s of gaps "
        "between them; total throughput is computed over the {:.3f} s in which at least one "
        "client was active, not over the {:.3f} s from first start to last end.",
        periods, span_s - window_s, window_s, span_s));
    return;
  }

  std::nth_element(durations_s.begin(), durations_s.begin() + durations_s.size() / 2,
                   durations_s.end());
  double median_s = durations_s[durations_s.size() / 2];
  double start_spread_s = static_cast<double>(last_start - first_start) / kNanosPerSecond;
  if (start_spread_s > std::max(kStartSpreadWarningMinS, kStartSpreadWarningShare * median_s)) {
    double common_s = std::max(0.0, static_cast<double>(first_end - last_start) / kNanosPerSecond);
    warnings.push_back(fmt::format(
        "Client start times differ by {:.3f} s (median window {:.3f} s): the clients did not "
        "start together or their clocks are not synchronised; all clients ran together for "
        "only {:.3f} s of the {:.3f} s window.",
        start_spread_s, median_s, common_s, window_s));
  }

  auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  double ahead_s = static_cast<double>(last_end - now_ns) / kNanosPerSecond;
  if (ahead_s > kFutureEndWarningS) {
    warnings.push_back(fmt::format(
        "A client window ends {:.0f} s after this machine's current time: that client's clock "
        "is ahead, so windows from different machines may not line up.",
        ahead_s));
  }
}

// Missing and unexpected ids for `expect` clients: 0..N-1 when id 0 is present, else 1..N.
void check_expected(const std::vector<ClientResult>& results, int expect, AggregateReport& report) {
  std::set<std::int64_t> seen;
  std::vector<std::string> unexpected;
  for (const ClientResult& result : results) {
    auto id = numeric_id(result.client_id);
    if (id) {
      seen.insert(*id);
    } else {
      unexpected.push_back(result.client_id);
    }
  }
  std::int64_t first = seen.count(0) > 0 ? 0 : 1;
  std::int64_t last = first + expect - 1;
  for (std::int64_t id = first; id <= last; ++id) {
    if (seen.count(id) == 0) report.missing_clients.push_back(std::to_string(id));
  }
  for (std::int64_t id : seen) {
    if (id < first || id > last) unexpected.push_back(std::to_string(id));
  }
  if (!unexpected.empty()) {
    report.warnings.push_back(fmt::format("Clients outside the expected ids {}..{}: {}.", first,
                                          last, join(unexpected, ", ")));
  }
}

void merge_latency(const std::vector<ClientResult>& results, AggregateReport& report) {
  // Closed-loop clients write one histogram, which is also their service latency, so each
  // encoded histogram is decoded exactly once into one of three sums.
  Histogram closed_loop;
  Histogram open_loop;
  Histogram open_loop_service;
  std::size_t without_histogram = 0;
  std::vector<std::string> undecodable;
  double max_ms = 0;
  double service_max_ms = 0;
  double weighted_mean = 0;
  double weighted_service_mean = 0;

  for (const ClientResult& result : results) {
    if (result.histogram.empty()) {
      ++without_histogram;
      continue;
    }
    bool open = !result.service_histogram.empty();
    Histogram& latency = open ? open_loop : closed_loop;
    std::uint64_t count_before = latency.total_count();
    HistogramDecodeError error = latency.add_compressed_base64(result.histogram);
    if (error == HistogramDecodeError::kNone && open) {
      error = open_loop_service.add_compressed_base64(result.service_histogram);
    }
    if (error != HistogramDecodeError::kNone) {
      undecodable.push_back(fmt::format("{} ({})", result.client_id, to_string(error)));
      continue;
    }
    auto samples = static_cast<double>(latency.total_count() - count_before);
    weighted_mean += result.latency.mean * samples;
    max_ms = std::max(max_ms, result.latency.max);
    weighted_service_mean += result.service_latency.mean * samples;
    service_max_ms = std::max(service_max_ms, result.service_latency.max);
  }
  Histogram merged;
  merged.add(closed_loop);
  merged.add(open_loop);
  Histogram merged_service;
  merged_service.add(closed_loop);
  merged_service.add(open_loop_service);

  if (without_histogram > 0) {
    report.warnings.push_back(fmt::format(
        "{} of {} clients reported no latency histogram (the original six-field line): their "
        "latencies cannot be merged into the percentiles.",
        without_histogram, results.size()));
  }
  if (!undecodable.empty()) {
    report.warnings.push_back(
        fmt::format("Latency histograms that could not be decoded: {}.", join(undecodable, ", ")));
  }
  if (merged.clamped_count() > 0) {
    report.warnings.push_back(
        fmt::format("{} latencies exceeded {} s and were counted at that value.",
                    merged.clamped_count(), merged.highest_trackable_value() / 1'000'000));
  }
  report.percentiles_merged = merged.total_count() > 0;
  report.latency_samples = merged.total_count();
  if (!report.percentiles_merged) {
    // Without histograms only the original fields remain: mean weighted by orders, maximum.
    double orders = 0;
    for (const ClientResult& result : results) {
      orders += static_cast<double>(result.orders_sent);
      weighted_mean += result.avg_latency_ms * static_cast<double>(result.orders_sent);
      max_ms = std::max(max_ms, result.max_latency_ms);
    }
    report.latency.mean = orders > 0 ? weighted_mean / orders : 0;
    report.latency.max = max_ms;
    report.service_latency = report.latency;
    return;
  }

  auto samples = static_cast<double>(merged.total_count());
  report.latency = summarize(merged);
  report.latency.mean = weighted_mean / samples;
  report.latency.max = std::max(max_ms, report.latency.p999);
  report.service_latency = summarize(merged_service);
  report.service_latency.mean = weighted_service_mean / samples;
  report.service_latency.max = std::max(service_max_ms, report.service_latency.p999);
}

void check_thresholds(const AggregateOptions& options, AggregateReport& report) {
  if (options.min_throughput && report.throughput < *options.min_throughput) {
    report.threshold_failures.push_back(
        fmt::format("Throughput {} orders/s is below --min-throughput {}.",
                    thousands(report.throughput, 1), thousands(*options.min_throughput, 1)));
  }
  if (!options.max_p99_ms) return;
  if (!report.percentiles_merged) {
    report.threshold_failures.push_back(
        "--max-p99-ms cannot be checked: no client reported a latency histogram.");
    return;
  }
  if (report.latency.p99 > *options.max_p99_ms) {
    report.threshold_failures.push_back(
        fmt::format("p99 latency {:.3f} ms is above --max-p99-ms {}.", report.latency.p99,
                    *options.max_p99_ms));
  }
}

// Percentiles without a histogram behind them are written as null, not as 0.
void write_latency(JsonWriter& json, std::string_view name, const LatencySummary& latency,
                   bool has_percentiles) {
  json.key(name).begin_object();
  for (auto [key, value] : {std::pair{"p50", latency.p50}, std::pair{"p90", latency.p90},
                            std::pair{"p99", latency.p99}, std::pair{"p999", latency.p999}}) {
    json.key(key);
    if (has_percentiles) {
      json.value(value);
    } else {
      json.null();
    }
  }
  json.member("max", latency.max);
  json.member("mean", latency.mean);
  json.end_object();
}

void write_errors(JsonWriter& json, const ErrorCounts& errors) {
  json.key("errors").begin_object();
  json.member("connect", errors.connect);
  json.member("timeout", errors.timeout);
  json.member("http_4xx", errors.http_4xx);
  json.member("http_5xx", errors.http_5xx);
  json.member("rejected", errors.rejected);
  json.member("io", errors.io);
  json.member("protocol", errors.protocol);
  json.end_object();
}

void write_string_list(JsonWriter& json, std::string_view name,
                       const std::vector<std::string>& items) {
  json.key(name).begin_array();
  for (const auto& item : items) json.value(item);
  json.end_array();
}

std::string format_errors(const ErrorCounts& errors) {
  return fmt::format(
      "connect {}, timeout {}, http_4xx {}, http_5xx {}, rejected {}, io {}, "
      "protocol {}",
      errors.connect, errors.timeout, errors.http_4xx, errors.http_5xx, errors.rejected, errors.io,
      errors.protocol);
}

std::string format_latency(const LatencySummary& latency) {
  return fmt::format("p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  p99.9 {:.3f}  max {:.3f}  mean {:.3f}",
                     latency.p50, latency.p90, latency.p99, latency.p999, latency.max,
                     latency.mean);
}

}  // namespace

void add_aggregate_options(CLI::App& command, AggregateFlags& flags) {
  command.add_flag("--json", flags.json, "Print the report as one JSON object")
      ->envname("REPORT_JSON");
  command
      .add_option("--expect-clients", flags.expect_clients,
                  "Number of clients that should report; ids 1..N, or 0..N-1 when a client "
                  "reports id 0. Missing ones are named and make the exit code 3 (0: no check)")
      ->envname("EXPECT_CLIENTS")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command
      .add_option("--min-throughput", flags.min_throughput,
                  "Exit with code 3 when total successful orders/s is below this number")
      ->envname("MIN_THROUGHPUT");
  command
      .add_option("--max-p99-ms", flags.max_p99_ms,
                  "Exit with code 3 when the merged p99 latency in milliseconds is above this")
      ->envname("MAX_P99_MS");
}

ThresholdParse parse_threshold(std::string_view flag, std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
  bool plain = !text.empty() && (text.front() != '-' && text.front() != '+');
  if (!plain || error != std::errc() || ptr != end || !std::isfinite(value) || value < 0) {
    return {std::nullopt,
            fmt::format("invalid value '{}' for {}: expected a non-negative decimal number "
                        "without suffix, such as 10000 or 2.5",
                        text, flag)};
  }
  return {value, {}};
}

std::string resolve_aggregate_flags(const AggregateFlags& flags, AggregateOptions& options) {
  options.json = flags.json;
  options.expect_clients = flags.expect_clients;
  if (!flags.min_throughput.empty()) {
    auto parsed = parse_threshold("--min-throughput", flags.min_throughput);
    if (!parsed.value) return parsed.error;
    options.min_throughput = parsed.value;
  }
  if (!flags.max_p99_ms.empty()) {
    auto parsed = parse_threshold("--max-p99-ms", flags.max_p99_ms);
    if (!parsed.value) return parsed.error;
    options.max_p99_ms = parsed.value;
  }
  return {};
}

std::string_view status_for_throughput(double orders_per_second) {
  if (orders_per_second >= 10'000) return "TARGET ACHIEVED";
  if (orders_per_second >= 5'000) return "EXCELLENT";
  if (orders_per_second >= 2'000) return "GOOD";
  if (orders_per_second >= 1'074) return "IMPROVEMENT";
  return "INVESTIGATION NEEDED";
}

void Aggregator::add_line(std::string_view line) {
  ParsedLine parsed = parse_result_line(line);
  if (parsed.status == LineParse::kNotAResult) return;
  if (parsed.status == LineParse::kMalformed) {
    ++unparsed_lines_;
    if (parse_errors_.size() < kParseErrorsKept) parse_errors_.push_back(parsed.error);
    return;
  }
  add_result(std::move(parsed.result));
}

void Aggregator::add_result(ClientResult result) {
  if (!seen_ids_.insert(result.client_id).second) {
    if (std::find(duplicates_.begin(), duplicates_.end(), result.client_id) == duplicates_.end()) {
      duplicates_.push_back(result.client_id);
    }
    return;
  }
  results_.push_back(std::move(result));
}

AggregateReport Aggregator::finish(const AggregateOptions& options) const {
  AggregateReport report;
  report.clients = results_.size();
  report.per_client = results_;
  // Rows by client id: numerically when both ids are numbers (2 before 10), else as text.
  std::stable_sort(
      report.per_client.begin(), report.per_client.end(),
      [](const ClientResult& a, const ClientResult& b) {
        bool a_numeric = !a.client_id.empty() &&
                         a.client_id.find_first_not_of("0123456789") == std::string::npos;
        bool b_numeric = !b.client_id.empty() &&
                         b.client_id.find_first_not_of("0123456789") == std::string::npos;
        if (a_numeric && b_numeric && a.client_id.size() != b.client_id.size()) {
          return a.client_id.size() < b.client_id.size();
        }
        return a.client_id < b.client_id;
      });
  report.duplicate_clients = duplicates_;
  report.unparsed_lines = unparsed_lines_;

  // Totals, and the windows of clients that sent anything.
  std::vector<Window> windows;
  double legacy_throughput = 0;
  std::uint64_t windowed_success = 0;
  for (const ClientResult& result : results_) {
    report.orders_sent += result.orders_sent;
    report.orders_success += result.orders_success;
    report.sum_of_client_throughput += result.throughput;
    report.errors.add(result.errors);
    bool has_window = result.end_unix_ns > result.start_unix_ns && result.start_unix_ns > 0;
    if (has_window && result.orders_sent > 0) {
      windows.push_back({result.start_unix_ns, result.end_unix_ns});
      windowed_success += result.orders_success;
    } else if (!has_window) {
      legacy_throughput += result.throughput;
    }
  }
  report.success_rate = report.orders_sent == 0 ? 0.0
                                                : static_cast<double>(report.orders_success) /
                                                      static_cast<double>(report.orders_sent);

  auto [covered_ns, periods] = union_of(windows);
  report.window_s = static_cast<double>(covered_ns) / kNanosPerSecond;
  report.window_periods = periods;
  if (report.window_s > 0) {
    report.throughput = static_cast<double>(windowed_success) / report.window_s;
  }
  check_windows(windows, periods, report.window_s, report.warnings);
  if (legacy_throughput > 0 || (windows.empty() && !results_.empty())) {
    report.throughput += legacy_throughput;
    report.warnings.push_back(
        "Some clients reported no active window (start and end time): their own throughput "
        "figures are added to the total as they are.");
  }

  merge_latency(results_, report);
  if (options.expect_clients > 0) check_expected(results_, options.expect_clients, report);
  if (!duplicates_.empty()) {
    report.warnings.push_back(fmt::format(
        "Client ids reported more than once, first result kept: {}.", join(duplicates_, ", ")));
  }
  if (unparsed_lines_ > 0) {
    report.warnings.push_back(fmt::format("{} lines with a JSON: marker could not be read ({}).",
                                          unparsed_lines_, join(parse_errors_, "; ")));
  }
  if (results_.empty()) report.warnings.push_back("No client result line was found.");

  report.status = std::string(status_for_throughput(report.throughput));
  check_thresholds(options, report);
  return report;
}

std::string render_text(const AggregateReport& report) {
  std::string out;
  auto line = [&out](std::string text) {
    out += text;
    out += '\n';
  };

  line(fmt::format("=== Load test report: {} clients ===", report.clients));
  line(fmt::format("{:<12} {:>12} {:>12} {:>14} {:>10} {:>10} {:>10}", "client", "sent", "success",
                   "orders/s", "window s", "p99 ms", "errors"));
  for (const ClientResult& client : report.per_client) {
    std::string p99 = client.legacy ? "n/a" : fmt::format("{:.3f}", client.latency.p99);
    line(fmt::format("{:<12} {:>12} {:>12} {:>14} {:>10.3f} {:>10} {:>10}", client.client_id,
                     thousands(client.orders_sent), thousands(client.orders_success),
                     thousands(client.throughput, 1), client.duration_s, p99,
                     thousands(client.errors.total())));
  }
  line("");
  line(fmt::format("Orders sent:              {}", thousands(report.orders_sent)));
  line(fmt::format("Orders successful:        {} ({:.2f}%)", thousands(report.orders_success),
                   report.success_rate * 100.0));
  line(fmt::format("Active window:            {:.3f} s (union of client windows, {} period{})",
                   report.window_s, report.window_periods, report.window_periods == 1 ? "" : "s"));
  line(fmt::format("Total throughput:         {} successful orders/s over the active window",
                   thousands(report.throughput, 1)));
  line(fmt::format("Sum of client throughput: {} orders/s",
                   thousands(report.sum_of_client_throughput, 1)));
  if (report.percentiles_merged) {
    line(fmt::format("Latency ms ({} requests, merged histograms): {}",
                     thousands(report.latency_samples), format_latency(report.latency)));
    line(fmt::format("Service latency ms (from the actual send):   {}",
                     format_latency(report.service_latency)));
  } else {
    line(
        fmt::format("Latency ms: percentiles not available (no histograms); mean {:.3f}, "
                    "max {:.3f}",
                    report.latency.mean, report.latency.max));
  }
  line(fmt::format("Errors: {}", format_errors(report.errors)));
  if (!report.missing_clients.empty()) {
    line(fmt::format("Missing clients: {}", join(report.missing_clients, ", ")));
  }
  if (!report.duplicate_clients.empty()) {
    line(fmt::format("Duplicate clients: {}", join(report.duplicate_clients, ", ")));
  }
  if (report.unparsed_lines > 0) {
    line(fmt::format("Unparsed lines: {}", report.unparsed_lines));
  }
  for (const auto& warning : report.warnings) line("Warning: " + warning);
  for (const auto& failure : report.threshold_failures) line("Threshold missed: " + failure);
  line(fmt::format("Status: {} ({} successful orders/s)", report.status,
                   thousands(report.throughput, 1)));
  return out;
}

std::string render_json(const AggregateReport& report) {
  JsonWriter json;
  json.begin_object();
  json.member("clients", static_cast<std::uint64_t>(report.clients));
  json.member("orders_sent", report.orders_sent);
  json.member("orders_success", report.orders_success);
  json.member("success_rate", report.success_rate);
  json.member("throughput", report.throughput);
  json.member("sum_of_client_throughput", report.sum_of_client_throughput);
  json.member("window_s", report.window_s);
  json.member("window_periods", static_cast<std::uint64_t>(report.window_periods));
  json.member("percentiles_merged", report.percentiles_merged);
  json.member("latency_samples", report.latency_samples);
  write_latency(json, "latency_ms", report.latency, report.percentiles_merged);
  write_latency(json, "service_latency_ms", report.service_latency, report.percentiles_merged);
  write_errors(json, report.errors);
  json.member("status", report.status);
  write_string_list(json, "missing_clients", report.missing_clients);
  write_string_list(json, "duplicate_clients", report.duplicate_clients);
  json.member("unparsed_lines", report.unparsed_lines);
  write_string_list(json, "warnings", report.warnings);
  write_string_list(json, "threshold_failures", report.threshold_failures);
  json.member("passed", report.passed());

  json.key("per_client").begin_array();
  for (const ClientResult& client : report.per_client) {
    json.begin_object();
    json.member("client_id", client.client_id);
    json.member("orders_sent", client.orders_sent);
    json.member("orders_success", client.orders_success);
    json.member("throughput", client.throughput);
    json.member("start_unix_ns", client.start_unix_ns);
    json.member("end_unix_ns", client.end_unix_ns);
    json.member("duration_s", client.duration_s);
    json.member("mode", client.open_loop ? "open" : "closed");
    json.member("target_rate", client.target_rate);
    json.member("rate_kept", client.rate_kept);
    json.member("legacy", client.legacy);
    write_latency(json, "latency_ms", client.latency, !client.legacy);
    write_errors(json, client.errors);
    json.end_object();
  }
  json.end_array();
  json.end_object();
  return json.take();
}

int exit_code_for(const AggregateReport& report) {
  if (report.clients == 0) return kExitFailure;
  if (!report.passed()) return kExitThresholdMissed;
  return kExitOk;
}

int aggregate_stream(std::istream& in, const AggregateOptions& options, std::ostream& out,
                     std::ostream& /*err*/) {
  Aggregator aggregator;
  std::string line;
  while (std::getline(in, line)) aggregator.add_line(line);

  AggregateReport report = aggregator.finish(options);
  out << (options.json ? render_json(report) + "\n" : render_text(report));
  out.flush();
  return exit_code_for(report);
}

int aggregate_files(const std::vector<std::string>& paths, const AggregateOptions& options,
                    std::ostream& out, std::ostream& err) {
  Aggregator aggregator;
  bool read_failed = false;
  std::string line;
  for (const std::string& path : paths) {
    if (path == "-") {
      while (std::getline(std::cin, line)) aggregator.add_line(line);
      continue;
    }
    std::ifstream file(path);
    if (!file) {
      err << "hft aggregate: cannot read '" << path << "': no such file or no permission\n";
      read_failed = true;
      continue;
    }
    while (std::getline(file, line)) aggregator.add_line(line);
  }

  AggregateReport report = aggregator.finish(options);
  out << (options.json ? render_json(report) + "\n" : render_text(report));
  out.flush();
  return read_failed ? kExitFailure : exit_code_for(report);
}

}  // namespace hft::report
