// Entry point of `hft`: one executable for the server, the load client, the aggregator and the
// orchestrated run.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "common/exit_codes.h"

int main(int argc, char** argv) {
  CLI::App app{"hft: a trading backend and the distributed load test that measures it"};
  app.require_subcommand(1, 1);
  app.set_version_flag("--version", "hft 0.1.0");

  int exit_code = hft::kExitOk;
  hft::cli::add_serve_command(app, exit_code);
  hft::cli::add_load_command(app, exit_code);
  hft::cli::add_aggregate_command(app, exit_code);
  hft::cli::add_run_command(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? hft::kExitOk : hft::kExitUsage;
  }
  return exit_code;
}
