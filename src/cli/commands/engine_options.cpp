#include "cli/commands/engine_options.h"

#include <cstdio>

#include "runtime/process_tuning.h"

namespace dsinfer::cli {

void add_engine_options(CLI::App* cmd, EngineOptions& o) {
  cmd->add_option("--precision", o.precision,
                  "Compute precision: auto (fp32 for FP8 checkpoints, bf16 for converted bf16/W8A8) | fp32 | bf16")
      ->capture_default_str();
  cmd->add_flag("--no-pin", o.no_pin, "Do not pin worker threads to cores");
  cmd->add_flag("--allow-nonfinite", o.allow_nonfinite,
                "Continue with one warning when a layer produces NaN/Inf (default: exit 2 naming the layer)");
}

std::optional<ComputePrecision> apply_engine_options(const EngineOptions& o, const std::string& command,
                                                     bool verbose) {
  const auto precision = parse_compute_precision(o.precision, command + " --precision");
  if (!o.no_pin) {
    const std::string pinned = pin_worker_threads();
    if (verbose) std::fprintf(stderr, "dsinfer: %s\n", pinned.c_str());
  }
  return precision;
}

}  // namespace dsinfer::cli
