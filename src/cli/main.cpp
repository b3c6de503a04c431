// dsinfer: command-line front end. Errors with context become one line on
// stderr and exit code 2.
#include <cstdio>
#include <exception>

#include "cli/commands/command.h"
#include "io/error.h"

int main(int argc, char** argv) {
  CLI::App app{"dsinfer: inference engine for DeepSeek-R1/V3 and Kimi-K2 (MLA + DeepSeekMoE, FP8 checkpoints)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  dsinfer::cli::Action action;
  dsinfer::cli::register_logits_command(app, action);
  dsinfer::cli::register_generate_command(app, action);
  dsinfer::cli::register_tokenize_command(app, action);
  dsinfer::cli::register_detokenize_command(app, action);
  dsinfer::cli::register_convert_command(app, action);
  dsinfer::cli::register_run_command(app, action);
  dsinfer::cli::register_bench_command(app, action);
  dsinfer::cli::register_serve_command(app, action);
  dsinfer::cli::register_bench_serve_command(app, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    return action ? action() : 0;
  } catch (const dsinfer::Error& e) {
    std::fprintf(stderr, "dsinfer: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dsinfer: internal error: %s\n", e.what());
    return 3;
  }
}
