// dsinfer-serve: the HTTP commands of dsinfer (`dsinfer serve`,
// `dsinfer bench-serve` run this program), kept in their own executable so
// the HTTP stack and its TLS/compression libraries are loaded only by them.
#include <signal.h>

#include <cstring>

#include "cli/commands/app_runner.h"

int main(int argc, char** argv) {
  // `serve` stops on SIGINT/SIGTERM through one thread that waits for them:
  // they are blocked before any thread starts (MPI's too, under mpirun),
  // so every thread inherits the mask and none dies of the default action.
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  }
  CLI::App app{"dsinfer: the OpenAI-compatible server and its load benchmark", "dsinfer"};
  app.require_subcommand(1);
  dsinfer::cli::Action action;
  dsinfer::cli::register_serve_command(app, action);
  dsinfer::cli::register_bench_serve_command(app, action);
  return dsinfer::cli::run_app(app, action, argc, argv);
}
