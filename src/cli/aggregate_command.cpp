// `hft aggregate`: reads client result lines from files or standard input and prints the merged
// report; the work is in report/aggregate.h.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/exit_codes.h"
#include "report/aggregate.h"

namespace hft::cli {
namespace {

struct AggregateCommandState {
  report::AggregateFlags flags;
  std::vector<std::string> paths;
};

}  // namespace

void add_aggregate_command(CLI::App& app, int& exit_code) {
  auto state = std::make_shared<AggregateCommandState>();
  auto* command = app.add_subcommand(
      "aggregate",
      "Merge the JSON: result lines of many `hft load` clients (any log text around them, "
      "kubectl --prefix lines too) into one report");
  command->add_option("files", state->paths, "Files to read; none or '-' reads standard input");
  report::add_aggregate_options(*command, state->flags);

  command->callback([state, &exit_code] {
    // Thresholds are validated before any input is read, so a typo never consumes a pipe.
    report::AggregateOptions options;
    std::string error = report::resolve_aggregate_flags(state->flags, options);
    if (!error.empty()) {
      std::cerr << "hft aggregate: " << error << "\n";
      exit_code = kExitUsage;
      return;
    }

    if (state->paths.empty()) {
      exit_code = report::aggregate_stream(std::cin, options, std::cout, std::cerr);
      return;
    }
    exit_code = report::aggregate_files(state->paths, options, std::cout, std::cerr);
  });
}

}  // namespace hft::cli
