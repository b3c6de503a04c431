// dsinfer-serve: the HTTP commands of dsinfer (`dsinfer serve`,
// `dsinfer bench-serve` run this program), kept in their own executable so
// the HTTP stack and its TLS/compression libraries are loaded only by them.
#include "cli/commands/app_runner.h"

int main(int argc, char** argv) {
  CLI::App app{"dsinfer: the OpenAI-compatible server and its load benchmark", "dsinfer"};
  app.require_subcommand(1);
  dsinfer::cli::Action action;
  dsinfer::cli::register_serve_command(app, action);
  dsinfer::cli::register_bench_serve_command(app, action);
  return dsinfer::cli::run_app(app, action, argc, argv);
}
