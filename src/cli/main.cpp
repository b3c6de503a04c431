// dsinfer: command-line front end. Errors with context become one line on
// stderr and exit code 2.
#include "cli/commands/app_runner.h"

int main(int argc, char** argv) {
  CLI::App app{"dsinfer: inference engine for DeepSeek-R1/V3 and Kimi-K2 (MLA + DeepSeekMoE, FP8 checkpoints)",
               "dsinfer"};
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
  dsinfer::cli::register_bench_comm_command(app, action);
  dsinfer::cli::register_forwarded_command(app, action, "serve",
                                           "OpenAI-compatible HTTP server (continuous batching, prefix caching)",
                                           "dsinfer-serve");
  dsinfer::cli::register_forwarded_command(app, action, "bench-serve",
                                           "Drive a running OpenAI-compatible server at several concurrencies",
                                           "dsinfer-serve");
  return dsinfer::cli::run_app(app, action, argc, argv);
}
