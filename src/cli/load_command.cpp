// `hft load`: one load-test client; the work is in load/load_client.h.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "load/load_client.h"
#include "load/load_options.h"

namespace hft::cli {

void add_load_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<load::LoadOptions>();
  auto* command = app.add_subcommand(
      "load",
      "Run one load-test client: register a user, send orders for --duration seconds, print the "
      "result and one JSON: line");
  load::add_client_options(*command, *options);
  load::add_load_options(*command, *options);
  command->callback(
      [options, &exit_code] { exit_code = load::run_load_client(*options, std::cout, std::cerr); });
}

}  // namespace hft::cli
