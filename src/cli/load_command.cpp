#include "cli/commands.h"
#include "common/exit_codes.h"

namespace hft::cli {

// TODO: placeholder until the load command is implemented.
void add_load_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("load", "not implemented yet");
  command->callback([&exit_code] { exit_code = kExitFailure; });
}

}  // namespace hft::cli
