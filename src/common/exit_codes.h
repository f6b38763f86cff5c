// Process exit codes shared by every `hft` subcommand, so scripts can tell the failures apart.
#pragma once

namespace hft {

inline constexpr int kExitOk = 0;
// A runtime failure: a server that could not start, a client that could not connect, I/O.
inline constexpr int kExitFailure = 1;
// Invalid command line or environment: an unknown flag, a malformed value. Nothing was run.
inline constexpr int kExitUsage = 2;
// The run completed but missed a threshold set by the user (`hft aggregate --min-throughput`).
inline constexpr int kExitThresholdMissed = 3;

}  // namespace hft
