// LoadOptions: the settings of one `hft load` client, and the flags that set them, shared with
// `hft run`, which registers the same flags and forwards them to every client it starts.
//
// Plain values: thread-safe as any struct. `validate_load_options` returns an error message
// instead of throwing.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace hft::load {

enum class OrderProfile { kSeed, kRealistic };

struct LoadOptions {
  // Set per client (by `hft run` itself, so not forwarded).
  std::string api_url = "http://localhost:8000";
  std::string client_id = "1";
  double duration_s = 60;

  // Forwarded to every client by `hft run`.
  int connections = 4;
  double rate = 0;  // orders per second for this client over all its connections; 0: closed loop
  int batch = 1;    // orders per request; above 1 they go to /api/orders/batch
  std::string profile = "realistic";  // "seed" or "realistic"
  std::string symbols = "8";          // a count of default symbols, or a comma-separated list
  std::uint64_t seed = 1;
  int timeout_ms = 5000;
  std::string start_at;  // Unix time in seconds (fractions allowed); empty: start at once
};

// Registers --api-url, --client-id and --duration (env API_URL, CLIENT_ID, DURATION_SEC).
void add_client_options(CLI::App& command, LoadOptions& options);

// Registers the forwarded flags: --connections, --rate, --batch, --profile, --symbols, --seed,
// --timeout-ms, --start-at (env LOAD_CONNECTIONS, LOAD_RATE, LOAD_BATCH, LOAD_PROFILE,
// LOAD_SYMBOLS, LOAD_SEED, LOAD_TIMEOUT_MS, LOAD_START_AT).
void add_load_options(CLI::App& command, LoadOptions& options);

// The forwarded flags of `options` as arguments ("--connections", "8", ...), every one of them,
// so a client started with these arguments uses exactly these settings.
[[nodiscard]] std::vector<std::string> to_args(const LoadOptions& options);

// Checks ranges and formats. Returns an error naming the flag and the value, or "" when valid.
[[nodiscard]] std::string validate_load_options(const LoadOptions& options);

[[nodiscard]] OrderProfile profile_of(const LoadOptions& options);

// The symbols named by --symbols: the first N default symbols, or the given list.
[[nodiscard]] std::vector<std::string> resolve_symbols(const std::string& symbols);

}  // namespace hft::load
