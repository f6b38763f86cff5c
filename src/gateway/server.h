// run_server: the whole `hft serve` process. Replays the journal, starts the batch worker and
// the HTTP threads, serves until SIGTERM or SIGINT, then drains the queue, syncs the journal and
// returns the exit code.
#pragma once

#include <string>

#include "gateway/server_config.h"

namespace hft::gateway {

// Creates the loggers `server`, `http`, `worker`, `journal`, `auth` and `store` on stderr at
// `level`
// ("trace", "debug", "info", "warn", "error", "critical", "off"). Returns false for an unknown
// level.
[[nodiscard]] bool configure_logging(const std::string& level);

// Runs the server in the calling thread until a stop signal; returns kExitOk after a clean
// stop and kExitFailure when the start failed or the journal lost data.
[[nodiscard]] int run_server(const ServerConfig& config);

}  // namespace hft::gateway
