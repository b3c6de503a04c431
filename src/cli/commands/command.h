#pragma once
// Every `dsinfer <cmd>` registers its flags on the CLI11 app and sets the
// action to run once parsing succeeded. Commands stay thin: they parse flags
// and call into the library.
#include <CLI/CLI.hpp>
#include <functional>

namespace dsinfer::cli {

using Action = std::function<int()>;

void register_logits_command(CLI::App& app, Action& action);
void register_generate_command(CLI::App& app, Action& action);
void register_tokenize_command(CLI::App& app, Action& action);
void register_detokenize_command(CLI::App& app, Action& action);
void register_convert_command(CLI::App& app, Action& action);
void register_run_command(CLI::App& app, Action& action);
void register_bench_command(CLI::App& app, Action& action);
void register_bench_comm_command(CLI::App& app, Action& action);
void register_serve_command(CLI::App& app, Action& action);
void register_bench_serve_command(CLI::App& app, Action& action);

}  // namespace dsinfer::cli
