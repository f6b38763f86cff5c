#include "report/client_result.h"

#include <simdjson.h>

#include <cmath>

#include "common/json_writer.h"

namespace hft::report {
namespace {

constexpr std::string_view kMarker = "JSON:";

bool is_decimal_id(std::string_view id) {
  if (id.empty() || id.size() > 18) return false;
  if (id.size() > 1 && id.front() == '0') return false;
  for (char c : id) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void write_latency(JsonWriter& json, std::string_view name, const LatencySummary& latency) {
  json.key(name).begin_object();
  json.member("p50", latency.p50);
  json.member("p90", latency.p90);
  json.member("p99", latency.p99);
  json.member("p999", latency.p999);
  json.member("max", latency.max);
  json.member("mean", latency.mean);
  json.end_object();
}

std::optional<double> as_number(simdjson::dom::element element) {
  double number = 0;
  switch (element.type()) {
    case simdjson::dom::element_type::INT64:
      number = double(int64_t(element));
      break;
    case simdjson::dom::element_type::UINT64:
      number = double(uint64_t(element));
      break;
    case simdjson::dom::element_type::DOUBLE:
      number = double(element);
      break;
    default:
      return std::nullopt;
  }
  if (!std::isfinite(number)) return std::nullopt;
  return number;
}

std::optional<std::uint64_t> as_count(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::UINT64:
      return uint64_t(element);
    case simdjson::dom::element_type::INT64: {
      int64_t value = element;
      if (value < 0) return std::nullopt;
      return static_cast<std::uint64_t>(value);
    }
    case simdjson::dom::element_type::DOUBLE: {
      double value = element;
      if (!(value >= 0) || value > 1.8e19 || std::floor(value) != value) return std::nullopt;
      return static_cast<std::uint64_t>(value);
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::int64_t> as_int64(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::INT64:
      return int64_t(element);
    case simdjson::dom::element_type::UINT64: {
      uint64_t value = element;
      if (value > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<std::int64_t>(value);
    }
    default:
      return std::nullopt;
  }
}

void read_latency(simdjson::dom::element element, LatencySummary& latency) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) return;
  for (auto [key, value] : object) {
    auto number = as_number(value);
    if (!number) continue;
    if (key == "p50")
      latency.p50 = *number;
    else if (key == "p90")
      latency.p90 = *number;
    else if (key == "p99")
      latency.p99 = *number;
    else if (key == "p999")
      latency.p999 = *number;
    else if (key == "max")
      latency.max = *number;
    else if (key == "mean")
      latency.mean = *number;
  }
}

void read_errors(simdjson::dom::element element, ErrorCounts& errors) {
  simdjson::dom::object object;
  if (element.get(object) != simdjson::SUCCESS) return;
  for (auto [key, value] : object) {
    auto count = as_count(value);
    if (!count) continue;
    if (key == "connect")
      errors.connect = *count;
    else if (key == "timeout")
      errors.timeout = *count;
    else if (key == "http_4xx")
      errors.http_4xx = *count;
    else if (key == "http_5xx")
      errors.http_5xx = *count;
    else if (key == "rejected")
      errors.rejected = *count;
    else if (key == "io")
      errors.io = *count;
    else if (key == "protocol")
      errors.protocol = *count;
  }
}

ParsedLine malformed(std::string error) {
  ParsedLine parsed;
  parsed.status = LineParse::kMalformed;
  parsed.error = std::move(error);
  return parsed;
}

}  // namespace

void ErrorCounts::add(const ErrorCounts& other) {
  connect += other.connect;
  timeout += other.timeout;
  http_4xx += other.http_4xx;
  http_5xx += other.http_5xx;
  rejected += other.rejected;
  io += other.io;
  protocol += other.protocol;
}

std::string format_result_line(const ClientResult& result) {
  JsonWriter json;
  json.begin_object();
  json.key("client_id");
  if (is_decimal_id(result.client_id)) {
    json.raw(result.client_id);
  } else {
    json.value(result.client_id);
  }
  json.member("orders_sent", result.orders_sent);
  json.member("orders_success", result.orders_success);
  json.member("throughput", result.throughput);
  json.member("avg_latency", result.avg_latency_ms);
  json.member("max_latency", result.max_latency_ms);
  json.member("version", result.version);
  json.member("start_unix_ns", result.start_unix_ns);
  json.member("end_unix_ns", result.end_unix_ns);
  json.member("duration_s", result.duration_s);
  json.member("mode", result.open_loop ? "open" : "closed");
  json.member("target_rate", result.target_rate);
  json.member("connections", result.connections);
  json.member("batch", result.batch);

  json.key("errors").begin_object();
  json.member("connect", result.errors.connect);
  json.member("timeout", result.errors.timeout);
  json.member("http_4xx", result.errors.http_4xx);
  json.member("http_5xx", result.errors.http_5xx);
  json.member("rejected", result.errors.rejected);
  json.member("io", result.errors.io);
  json.member("protocol", result.errors.protocol);
  json.end_object();

  write_latency(json, "latency_ms", result.latency);
  write_latency(json, "service_latency_ms", result.service_latency);
  json.member("histogram", result.histogram);
  if (!result.service_histogram.empty()) {
    json.member("service_histogram", result.service_histogram);
  }
  json.member("profile", result.profile);
  json.member("requests_sent", result.requests_sent);
  json.member("cancels_sent", result.cancels_sent);
  json.member("cancels_success", result.cancels_success);
  json.member("achieved_rate", result.achieved_rate);
  json.member("rate_kept", result.rate_kept);
  json.member("orders_behind_schedule", result.orders_behind_schedule);
  json.end_object();
  return std::string(kMarker) + json.str();
}

ParsedLine parse_result_line(std::string_view line) {
  std::size_t marker = line.find(kMarker);
  if (marker == std::string_view::npos) return {};

  std::string_view text = line.substr(marker + kMarker.size());
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);

  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto error = parser.parse(text.data(), text.size()).get(root); error) {
    return malformed(std::string("invalid JSON: ") + simdjson::error_message(error));
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) return malformed("not a JSON object");

  ParsedLine parsed;
  ClientResult& result = parsed.result;
  bool has_id = false;
  bool has_sent = false;
  bool has_success = false;
  bool has_throughput = false;
  bool has_version = false;
  for (auto [key, value] : object) {
    if (key == "client_id") {
      std::string_view id;
      if (value.get(id) == simdjson::SUCCESS) {
        result.client_id = std::string(id);
        has_id = !id.empty();
      } else if (auto number = as_int64(value)) {
        result.client_id = std::to_string(*number);
        has_id = true;
      }
    } else if (key == "orders_sent") {
      auto count = as_count(value);
      has_sent = count.has_value();
      result.orders_sent = count.value_or(0);
    } else if (key == "orders_success") {
      auto count = as_count(value);
      has_success = count.has_value();
      result.orders_success = count.value_or(0);
    } else if (key == "throughput") {
      auto number = as_number(value);
      has_throughput = number.has_value() && *number >= 0;
      result.throughput = number.value_or(0);
    } else if (key == "avg_latency") {
      result.avg_latency_ms = as_number(value).value_or(0);
    } else if (key == "max_latency") {
      result.max_latency_ms = as_number(value).value_or(0);
    } else if (key == "version") {
      has_version = true;
      result.version = static_cast<int>(as_int64(value).value_or(0));
    } else if (key == "start_unix_ns") {
      result.start_unix_ns = as_int64(value).value_or(0);
    } else if (key == "end_unix_ns") {
      result.end_unix_ns = as_int64(value).value_or(0);
    } else if (key == "duration_s") {
      result.duration_s = as_number(value).value_or(0);
    } else if (key == "mode") {
      std::string_view mode;
      result.open_loop = value.get(mode) == simdjson::SUCCESS && mode == "open";
    } else if (key == "target_rate") {
      result.target_rate = as_number(value).value_or(0);
    } else if (key == "connections") {
      result.connections = static_cast<int>(as_int64(value).value_or(0));
    } else if (key == "batch") {
      result.batch = static_cast<int>(as_int64(value).value_or(1));
    } else if (key == "errors") {
      read_errors(value, result.errors);
    } else if (key == "latency_ms") {
      read_latency(value, result.latency);
    } else if (key == "service_latency_ms") {
      read_latency(value, result.service_latency);
    } else if (key == "histogram" || key == "service_histogram") {
      std::string_view encoded;
      if (value.get(encoded) != simdjson::SUCCESS) continue;
      (key == "histogram" ? result.histogram : result.service_histogram) = std::string(encoded);
    } else if (key == "profile") {
      std::string_view profile;
      if (value.get(profile) == simdjson::SUCCESS) result.profile = std::string(profile);
    } else if (key == "requests_sent") {
      result.requests_sent = as_count(value).value_or(0);
    } else if (key == "cancels_sent") {
      result.cancels_sent = as_count(value).value_or(0);
    } else if (key == "cancels_success") {
      result.cancels_success = as_count(value).value_or(0);
    } else if (key == "achieved_rate") {
      result.achieved_rate = as_number(value).value_or(0);
    } else if (key == "rate_kept") {
      bool kept = true;
      if (value.get(kept) == simdjson::SUCCESS) result.rate_kept = kept;
    } else if (key == "orders_behind_schedule") {
      result.orders_behind_schedule = as_count(value).value_or(0);
    }
  }

  if (!has_id) return malformed("missing or empty client_id");
  if (!has_sent) return malformed("missing or invalid orders_sent");
  if (!has_success) return malformed("missing or invalid orders_success");
  if (!has_throughput) return malformed("missing or invalid throughput");
  if (result.orders_success > result.orders_sent) {
    return malformed("orders_success is larger than orders_sent");
  }

  result.legacy = !has_version;
  if (result.legacy) {
    result.latency.mean = result.avg_latency_ms;
    result.latency.max = result.max_latency_ms;
    result.service_latency = result.latency;
  }
  parsed.status = LineParse::kParsed;
  return parsed;
}

}  // namespace hft::report
