// Registration of the `hft` subcommands. Each function adds one subcommand with its flags to
// `app`; when that subcommand runs, its callback stores the process exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace hft::cli {

void add_serve_command(CLI::App& app, int& exit_code);
void add_load_command(CLI::App& app, int& exit_code);
void add_aggregate_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);

}  // namespace hft::cli
