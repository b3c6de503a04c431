#pragma once
// `dsinfer run`: the seed's offline job end to end. Resolves the model
// (checkpoint, or random weights of its config), plans memory, loads,
// encodes the dataset's prompts, warms up, runs the measured static batch
// and produces the report (text + JSON).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dist/parallel_plan.h"
#include "io/run_config.h"
#include "backend/compute_precision.h"

namespace dsinfer {

struct OfflineJobOptions {
  std::string output_json;          // results file ("" = none)
  std::vector<std::string> search_roots;  // for dataset/... relative paths
  bool progress = true;
  bool warmup = true;
  int64_t show_sequences = 2;       // decoded texts printed in the report
  std::string label;                // e.g. "built-in demo (random weights)"
  std::optional<ComputePrecision> precision;  // nullopt: the model's default
  // This rank's groups under mpirun (null: one process). Every rank calls
  // run_offline_job; rank 0 prints the report and writes the results.
  std::shared_ptr<ParallelContext> parallel;
  // Benchmark: MTP drafts kept with this probability whatever the target
  // says (< 0: the real rule). The report says so; the text is not the model's.
  double forced_acceptance = -1;
  bool allow_nonfinite = false;  // NaN/Inf hidden states: one warning instead of an error
};

// Runs the job and returns the results JSON (also written to output_json).
nlohmann::json run_offline_job(const RunConfig& config, const OfflineJobOptions& options, FILE* report = stdout);

// The model directory a run config names: model_path itself, or with
// model_config.with_ckpt: False a random checkpoint of model_path's
// config.json (generated once into the cache; planned before it is written).
// Appends a note saying so.
std::string resolve_model_dir(const RunConfig& config, std::vector<std::string>& notes);

// The built-in demo's run config (random-weight DeepSeek-R1-shaped model
// with the real DeepSeek tokenizer and R1 chat template).
RunConfig demo_run_config(const std::string& asset_dir);

}  // namespace dsinfer
