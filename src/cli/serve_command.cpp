#include "cli/commands.h"
#include "common/exit_codes.h"

namespace hft::cli {

// TODO: placeholder until the serve command is implemented.
void add_serve_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand("serve", "not implemented yet");
  command->callback([&exit_code] { exit_code = kExitFailure; });
}

}  // namespace hft::cli
