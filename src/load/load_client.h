// The `hft load` program: registers a user, waits for --start-at and runs the load. It then
// prints the human-readable result block and one `JSON:` line on `out`, while progress and
// warnings go to `err`.
//
// Call from one thread. Returns the process exit code: kExitOk after a completed run (errors
// of single requests are counted, not fatal), kExitUsage for invalid options, kExitFailure when
// the API URL cannot be resolved or no user could be registered (a result line with the counted
// errors is still printed, so the aggregator sees the client).
#pragma once

#include <ostream>
#include <string>

#include "load/load_options.h"
#include "load/load_runner.h"
#include "report/client_result.h"

namespace hft::load {

struct ApiEndpoint {
  std::string host;
  int port = 80;
  std::string path_prefix;  // without trailing slash; empty for the root
};

// Parses "http://HOST[:PORT][/PREFIX]". Returns an error message, or "" on success.
[[nodiscard]] std::string parse_api_url(const std::string& url, ApiEndpoint& endpoint);

// Builds the result of a finished run, latencies in milliseconds.
[[nodiscard]] report::ClientResult make_result(const LoadOptions& options, const RunStats& stats);

// Formats the human-readable result block (several lines, ending in a newline).
[[nodiscard]] std::string format_result_block(const report::ClientResult& result);

int run_load_client(const LoadOptions& options, std::ostream& out, std::ostream& err);

}  // namespace hft::load
