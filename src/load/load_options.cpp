#include "load/load_options.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

namespace hft::load {
namespace {

constexpr const char* kDefaultSymbols[] = {"AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META",
                                           "TSLA", "JPM",  "V",     "JNJ",  "WMT",  "PG",
                                           "XOM",  "UNH",  "HD",    "BAC"};
constexpr int kDefaultSymbolCount = static_cast<int>(std::size(kDefaultSymbols));
constexpr int kMaxSymbols = 1000;
constexpr int kMaxConnections = 10000;
constexpr int kMaxBatch = 1000;
constexpr int kMaxTimeoutMs = 600'000;
constexpr double kMaxDurationS = 7 * 24 * 3600.0;

bool parse_count(const std::string& text, int& value) {
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  return error == std::errc() && ptr == end;
}

bool is_symbol(const std::string& symbol) {
  if (symbol.empty() || symbol.size() > 12) return false;
  for (char c : symbol) {
    bool allowed = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!allowed) return false;
  }
  return true;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    std::size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(begin, end - begin);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    items.push_back(item);
    begin = end + 1;
  }
  return items;
}

std::string format_number(double value) {
  std::string text = fmt::format("{:.6f}", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

void add_client_options(CLI::App& command, LoadOptions& options) {
  command.add_option("--api-url", options.api_url, "Base URL of the server, http only")
      ->envname("API_URL")
      ->capture_default_str();
  command.add_option("--client-id", options.client_id, "Id of this client in the results")
      ->envname("CLIENT_ID")
      ->capture_default_str();
  command.add_option("--duration", options.duration_s, "Seconds of sending orders")
      ->envname("DURATION_SEC")
      ->capture_default_str();
}

void add_load_options(CLI::App& command, LoadOptions& options) {
  command.add_option("--connections", options.connections, "Keep-alive connections per client")
      ->envname("LOAD_CONNECTIONS")
      ->capture_default_str();
  command
      .add_option("--rate", options.rate,
                  "Orders per second per client over all its connections (open loop); "
                  "0 sends each order when the previous reply arrives (closed loop)")
      ->envname("LOAD_RATE")
      ->capture_default_str();
  command.add_option("--batch", options.batch, "Orders per request; above 1 uses the batch API")
      ->envname("LOAD_BATCH")
      ->capture_default_str();
  command
      .add_option("--profile", options.profile,
                  "Orders to send: 'seed' (AAPL MARKET 100 @ 150, BUY and SELL alternating) or "
                  "'realistic' (LIMIT orders around a moving price, some crossing, some cancels)")
      ->envname("LOAD_PROFILE")
      ->capture_default_str();
  command
      .add_option("--symbols", options.symbols,
                  "Symbols of the realistic profile: a count of default symbols or a "
                  "comma-separated list")
      ->envname("LOAD_SYMBOLS")
      ->capture_default_str();
  command.add_option("--seed", options.seed, "Random seed of the realistic profile")
      ->envname("LOAD_SEED")
      ->capture_default_str();
  command.add_option("--timeout-ms", options.timeout_ms, "Milliseconds to wait for a reply")
      ->envname("LOAD_TIMEOUT_MS")
      ->capture_default_str();
  command
      .add_option("--start-at", options.start_at,
                  "Unix time in seconds (fractions allowed) at which to start sending, so that "
                  "clients start together; empty starts at once")
      ->envname("LOAD_START_AT");
}

std::vector<std::string> to_args(const LoadOptions& options) {
  std::vector<std::string> args = {
      "--connections", std::to_string(options.connections),
      "--rate",        format_number(options.rate),
      "--batch",       std::to_string(options.batch),
      "--profile",     options.profile,
      "--symbols",     options.symbols,
      "--seed",        std::to_string(options.seed),
      "--timeout-ms",  std::to_string(options.timeout_ms),
  };
  if (!options.start_at.empty()) {
    args.push_back("--start-at");
    args.push_back(options.start_at);
  }
  return args;
}

std::string validate_load_options(const LoadOptions& options) {
  if (options.api_url.rfind("http://", 0) != 0) {
    return fmt::format("invalid --api-url '{}': expected http://HOST[:PORT]", options.api_url);
  }
  if (options.client_id.empty()) return "invalid --client-id: it must not be empty";
  if (!(options.duration_s > 0) || options.duration_s > kMaxDurationS) {
    return fmt::format("invalid --duration {}: expected seconds above 0, at most {}",
                       options.duration_s, kMaxDurationS);
  }
  if (options.connections < 1 || options.connections > kMaxConnections) {
    return fmt::format("invalid --connections {}: expected 1 to {}", options.connections,
                       kMaxConnections);
  }
  if (!std::isfinite(options.rate) || options.rate < 0) {
    return fmt::format("invalid --rate {}: expected orders per second, 0 or more", options.rate);
  }
  if (options.batch < 1 || options.batch > kMaxBatch) {
    return fmt::format("invalid --batch {}: expected 1 to {}", options.batch, kMaxBatch);
  }
  if (options.profile != "seed" && options.profile != "realistic") {
    return fmt::format("invalid --profile '{}': expected 'seed' or 'realistic'", options.profile);
  }
  if (resolve_symbols(options.symbols).empty()) {
    return fmt::format(
        "invalid --symbols '{}': expected a count from 1 to {} or a comma-separated list of "
        "upper-case symbols such as AAPL,MSFT",
        options.symbols, kMaxSymbols);
  }
  if (options.timeout_ms < 1 || options.timeout_ms > kMaxTimeoutMs) {
    return fmt::format("invalid --timeout-ms {}: expected 1 to {}", options.timeout_ms,
                       kMaxTimeoutMs);
  }
  if (!options.start_at.empty()) {
    double start_at = 0;
    const char* end = options.start_at.data() + options.start_at.size();
    auto [ptr, error] = std::from_chars(options.start_at.data(), end, start_at);
    if (error != std::errc() || ptr != end || !std::isfinite(start_at) || start_at < 0) {
      return fmt::format("invalid --start-at '{}': expected Unix time in seconds, such as {}",
                         options.start_at, "1733320800.5");
    }
  }
  return {};
}

OrderProfile profile_of(const LoadOptions& options) {
  return options.profile == "seed" ? OrderProfile::kSeed : OrderProfile::kRealistic;
}

std::vector<std::string> resolve_symbols(const std::string& symbols) {
  int count = 0;
  if (parse_count(symbols, count)) {
    if (count < 1 || count > kMaxSymbols) return {};
    std::vector<std::string> names;
    for (int i = 0; i < count; ++i) {
      names.push_back(i < kDefaultSymbolCount ? std::string(kDefaultSymbols[i])
                                              : fmt::format("SYM{:04}", i + 1));
    }
    return names;
  }

  std::vector<std::string> names = split_list(symbols);
  if (names.size() > static_cast<std::size_t>(kMaxSymbols)) return {};
  for (const auto& name : names) {
    if (!is_symbol(name)) return {};
  }
  return names;
}

}  // namespace hft::load
