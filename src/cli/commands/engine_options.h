#pragma once
// Flags shared by every command that runs the model: compute precision and
// worker-thread pinning.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "backend/compute_precision.h"

namespace dsinfer::cli {

struct EngineOptions {
  std::string precision = "auto";
  bool no_pin = false;
  bool allow_nonfinite = false;  // NaN/Inf hidden states: a warning instead of an error
};

void add_engine_options(CLI::App* cmd, EngineOptions& o);

// Pins the worker threads (unless --no-pin; the description goes to stderr
// when verbose) and returns the parsed --precision (nullopt: auto). Errors
// name `command`.
std::optional<ComputePrecision> apply_engine_options(const EngineOptions& o, const std::string& command, bool verbose);

}  // namespace dsinfer::cli
