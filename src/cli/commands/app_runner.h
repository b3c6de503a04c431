#pragma once
// The common main() of the dsinfer executables: parse, run the chosen
// command, turn errors with context into one line on stderr and exit 2.
#include <CLI/CLI.hpp>

#include "cli/commands/command.h"

namespace dsinfer::cli {

int run_app(CLI::App& app, Action& action, int argc, char** argv);

// Registers `name` as a command run by the sibling executable `program`
// (same directory as this one), which gets every argument after the name,
// --help included. Keeps libraries only that command needs (the HTTP stack
// and its TLS/compression dependencies) out of the main executable.
void register_forwarded_command(CLI::App& app, Action& action, const std::string& name,
                                const std::string& description, const std::string& program);

}  // namespace dsinfer::cli
