#include "load/load_client.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <charconv>
#include <cmath>
#include <thread>

#include "common/exit_codes.h"
#include "common/http_client.h"
#include "common/json_writer.h"

namespace hft::load {
namespace {

constexpr double kMicrosPerMilli = 1000.0;
// An open-loop run that sent fewer than this share of its due orders did not keep the rate.
constexpr double kRateKeptShare = 0.99;
// A --start-at further ahead than this is a mistake (a time in milliseconds, say).
constexpr double kMaxStartDelayS = 24 * 3600.0;

struct Registration {
  std::string access_token;
  std::string error;  // why registration failed, when the token is empty
  report::ErrorCounts errors;
};

void count_failed_request(const HttpResponse& response, report::ErrorCounts& errors) {
  if (response.status >= 500) {
    ++errors.http_5xx;
  } else if (response.status >= 400) {
    ++errors.http_4xx;
  } else if (response.status == 0 && response.error.find("timeout") != std::string::npos) {
    ++errors.timeout;
  } else if (response.status == 0) {
    ++errors.connect;
  } else {
    ++errors.protocol;
  }
}

std::string read_token(const std::string& body) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document document;
  std::string_view token;
  if (parser.iterate(padded).get(document) != simdjson::SUCCESS) return {};
  if (document.find_field_unordered("access_token").get_string().get(token) != simdjson::SUCCESS) {
    return {};
  }
  return std::string(token);
}

// Registers a user unique to this process and run; on 409 (the name is taken) logs in instead.
Registration register_user(const ApiEndpoint& api, const LoadOptions& options) {
  Registration registration;
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string username = fmt::format("load-{}-{}-{}", options.client_id, ::getpid(), now_ms);
  const std::string password = "load-test-password-1";
  JsonWriter body;
  body.begin_object();
  body.member("username", username);
  body.member("email", username + "@example.com");
  body.member("password", password);
  body.end_object();

  std::chrono::milliseconds timeout(options.timeout_ms);
  HttpResponse response = http_request(
      api.host, api.port, "POST", api.path_prefix + "/api/auth/register", body.str(), {}, timeout);
  if (response.status == 409) {
    JsonWriter login;
    login.begin_object();
    login.member("username", username);
    login.member("password", password);
    login.end_object();
    response = http_request(api.host, api.port, "POST", api.path_prefix + "/api/auth/login",
                            login.str(), {}, timeout);
  }
  if (response.status != 200 && response.status != 201) {
    count_failed_request(response, registration.errors);
    registration.error =
        response.status == 0
            ? fmt::format("registration request failed: {}", response.error)
            : fmt::format("registration answered HTTP {}: {}", response.status, response.body);
    return registration;
  }

  registration.access_token = read_token(response.body);
  if (registration.access_token.empty()) {
    ++registration.errors.protocol;
    registration.error = fmt::format("registration reply holds no access_token: {}", response.body);
  }
  return registration;
}

// Sleeps until `start_at` (Unix seconds). Returns an error for a time too far ahead.
std::string wait_for_start(const std::string& start_at, std::ostream& err) {
  if (start_at.empty()) return {};

  double target_s = 0;
  std::from_chars(start_at.data(), start_at.data() + start_at.size(), target_s);
  double now_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double delay_s = target_s - now_s;
  if (delay_s > kMaxStartDelayS) {
    return fmt::format("invalid --start-at {}: it is {:.0f} s ahead, more than 24 hours", start_at,
                       delay_s);
  }
  if (delay_s <= 0) {
    err << fmt::format("warning: --start-at {} was {:.3f} s ago; starting now\n", start_at,
                       -delay_s);
    return {};
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(delay_s));
  return {};
}

report::LatencySummary summarize(const report::Histogram& histogram, double sum_us,
                                 std::int64_t max_us) {
  report::LatencySummary summary;
  auto percentile_ms = [&histogram](double percentile) {
    return static_cast<double>(histogram.value_at_percentile(percentile)) / kMicrosPerMilli;
  };
  summary.p50 = percentile_ms(50.0);
  summary.p90 = percentile_ms(90.0);
  summary.p99 = percentile_ms(99.0);
  summary.p999 = percentile_ms(99.9);
  summary.max = static_cast<double>(max_us) / kMicrosPerMilli;
  auto count = static_cast<double>(histogram.total_count());
  summary.mean = count > 0 ? sum_us / count / kMicrosPerMilli : 0.0;
  return summary;
}

std::string format_latency(const report::LatencySummary& latency) {
  return fmt::format("p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  p99.9 {:.3f}  max {:.3f}  mean {:.3f}",
                     latency.p50, latency.p90, latency.p99, latency.p999, latency.max,
                     latency.mean);
}

}  // namespace

std::string parse_api_url(const std::string& url, ApiEndpoint& endpoint) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    return fmt::format("invalid --api-url '{}': only http://HOST[:PORT] is supported", url);
  }
  std::string rest = url.substr(kScheme.size());
  std::size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  endpoint.path_prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!endpoint.path_prefix.empty() && endpoint.path_prefix.back() == '/') {
    endpoint.path_prefix.pop_back();
  }

  std::size_t colon = authority.rfind(':');
  endpoint.host = authority.substr(0, colon);
  endpoint.port = 80;
  if (colon != std::string::npos) {
    std::string port = authority.substr(colon + 1);
    auto [ptr, error] = std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
    if (error != std::errc() || ptr != port.data() + port.size() || endpoint.port < 1 ||
        endpoint.port > 65535) {
      return fmt::format("invalid --api-url '{}': the port must be 1 to 65535", url);
    }
  }
  if (endpoint.host.empty()) return fmt::format("invalid --api-url '{}': no host", url);
  return {};
}

report::ClientResult make_result(const LoadOptions& options, const RunStats& stats) {
  report::ClientResult result;
  result.client_id = options.client_id;
  result.orders_sent = stats.orders_sent;
  result.orders_success = stats.orders_success;
  result.duration_s = stats.window_s;
  result.throughput =
      stats.window_s > 0 ? static_cast<double>(stats.orders_success) / stats.window_s : 0.0;
  result.start_unix_ns = stats.start_unix_ns;
  result.end_unix_ns = stats.end_unix_ns;

  result.open_loop = options.rate > 0;
  result.target_rate = options.rate;
  result.connections = options.connections;
  result.batch = options.batch;
  result.errors = stats.errors;

  result.latency = summarize(stats.latency_us, stats.latency_sum_us, stats.latency_max_us);
  result.service_latency = summarize(stats.service_latency_us, stats.service_latency_sum_us,
                                     stats.service_latency_max_us);
  result.avg_latency_ms = result.latency.mean;
  result.max_latency_ms = result.latency.max;
  result.histogram = stats.latency_us.encode_compressed_base64();
  if (result.open_loop) {
    result.service_histogram = stats.service_latency_us.encode_compressed_base64();
  }

  result.profile = options.profile;
  result.requests_sent = stats.requests_sent;
  result.cancels_sent = stats.cancels_sent;
  result.cancels_success = stats.cancels_success;
  result.achieved_rate =
      stats.send_window_s > 0 ? static_cast<double>(stats.orders_sent) / stats.send_window_s : 0.0;
  // An open-loop run keeps its rate when it sent nearly every order that came due.
  result.orders_behind_schedule = stats.orders_behind_schedule;
  result.rate_kept =
      !result.open_loop || static_cast<double>(stats.orders_sent) >=
                               kRateKeptShare * static_cast<double>(stats.orders_scheduled);
  return result;
}

std::string format_result_block(const report::ClientResult& result) {
  std::string out;
  auto line = [&out](std::string text) {
    out += text;
    out += '\n';
  };
  double success_share = result.orders_sent == 0
                             ? 0.0
                             : 100.0 * static_cast<double>(result.orders_success) /
                                   static_cast<double>(result.orders_sent);
  std::string mode = result.open_loop
                         ? fmt::format("open loop at {:.1f} orders/s", result.target_rate)
                         : std::string("closed loop");

  line(fmt::format("=== hft load: client {} ===", result.client_id));
  line(fmt::format("Mode:         {}, {} connections, batch {}, profile {}", mode,
                   result.connections, result.batch, result.profile));
  line(fmt::format("Window:       {:.3f} s", result.duration_s));
  line(fmt::format("Orders:       {} sent, {} successful ({:.2f}%), {} requests",
                   result.orders_sent, result.orders_success, success_share, result.requests_sent));
  line(fmt::format("Throughput:   {:.1f} successful orders/s; {:.1f} orders/s sent",
                   result.throughput, result.achieved_rate));
  line(fmt::format("Latency ms:   {}", format_latency(result.latency)));
  if (result.open_loop) {
    line(fmt::format("Service ms:   {} (from the actual send)",
                     format_latency(result.service_latency)));
  }
  if (result.cancels_sent > 0) {
    line(fmt::format("Cancels:      {} sent, {} successful", result.cancels_sent,
                     result.cancels_success));
  }

  const auto& errors = result.errors;
  line(
      fmt::format("Errors:       connect {}, timeout {}, http_4xx {}, http_5xx {}, rejected {}, "
                  "io {}, protocol {}",
                  errors.connect, errors.timeout, errors.http_4xx, errors.http_5xx, errors.rejected,
                  errors.io, errors.protocol));
  if (!result.rate_kept) {
    line(
        fmt::format("Warning:      the rate of {:.1f} orders/s was not kept: {:.1f} orders/s "
                    "sent, {} due orders never sent; latency counts the wait from each due "
                    "time",
                    result.target_rate, result.achieved_rate, result.orders_behind_schedule));
  }
  return out;
}

int run_load_client(const LoadOptions& options, std::ostream& out, std::ostream& err) {
  std::string error = validate_load_options(options);
  ApiEndpoint api;
  if (error.empty()) error = parse_api_url(options.api_url, api);
  if (!error.empty()) {
    err << "hft load: " << error << "\n";
    return kExitUsage;
  }

  RunSettings settings;
  try {
    boost::asio::io_context io;
    boost::asio::ip::tcp::resolver resolver(io);
    for (const auto& entry : resolver.resolve(api.host, std::to_string(api.port))) {
      settings.endpoints.push_back(entry.endpoint());
    }
  } catch (const boost::system::system_error& resolve_error) {
    err << fmt::format("hft load: cannot resolve host '{}' of --api-url: {}\n", api.host,
                       resolve_error.what());
    return kExitFailure;
  }

  Registration registration = register_user(api, options);
  if (registration.access_token.empty()) {
    err << fmt::format("hft load: client {}: {}\n", options.client_id, registration.error);
    RunStats stats;
    stats.errors = registration.errors;
    report::ClientResult result = make_result(options, stats);
    out << format_result_block(result) << report::format_result_line(result) << "\n";
    out.flush();
    return kExitFailure;
  }

  error = wait_for_start(options.start_at, err);
  if (!error.empty()) {
    err << "hft load: " << error << "\n";
    return kExitUsage;
  }

  settings.host_header = fmt::format("{}:{}", api.host, api.port);
  settings.path_prefix = api.path_prefix;
  settings.access_token = registration.access_token;
  settings.client_id = options.client_id;
  settings.connections = options.connections;
  settings.rate = options.rate;
  settings.batch = options.batch;
  settings.timeout = std::chrono::milliseconds(options.timeout_ms);
  settings.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(options.duration_s));
  settings.live_progress = ::isatty(STDERR_FILENO) == 1;

  OrderGenerator generator(profile_of(options), resolve_symbols(options.symbols), options.seed,
                           options.client_id);
  LoadRunner runner(std::move(settings), generator, err);
  RunStats stats = runner.run();
  stats.errors.add(registration.errors);

  report::ClientResult result = make_result(options, stats);
  out << format_result_block(result) << report::format_result_line(result) << "\n";
  out.flush();
  return kExitOk;
}

}  // namespace hft::load
