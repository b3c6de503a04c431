// dsinfer bench: machine ceilings + per-phase engine timings (issue 6).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_report.h"
#include "bench/layer_bench.h"
#include "bench/mtp_projection.h"
#include "bench/machine_ceilings.h"
#include "bench/synthetic_model.h"
#include "cli/commands/command.h"
#include "cli/commands/engine_options.h"
#include "io/error.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/thread_pinning.h"
#include "model/deepseek_model.h"
#include "runtime/load_model.h"
#include "runtime/process_tuning.h"

namespace dsinfer::cli {
namespace {

struct BenchOpts {
  std::string model, synthetic, weights = "all", json;
  int64_t layers = 1, experts = 16;
  std::vector<int64_t> batches{1, 8, 32}, contexts{1024, 8192}, prefill{512, 2048};
  int reps = 3;
  bool quick = false, scaling = false, mtp = false;
  EngineOptions engine;
  size_t read_buffer_mb = 1024;
};

bench::BenchWeights weights_of(const ModelConfig& c) {
  switch (c.quant.weights) {
    case WeightQuant::Int8Channel: return bench::BenchWeights::W8A8;
    case WeightQuant::Fp8Block: return bench::BenchWeights::FP8;
    case WeightQuant::None: break;
  }
  return bench::BenchWeights::BF16;
}

int run_bench(const BenchOpts& o) {
  if (o.model.empty() == o.synthetic.empty()) throw Error("bench: give exactly one of --model DIR or --synthetic r1|k2");
  const std::optional<ComputePrecision> precision = apply_engine_options(o.engine, "bench", true);
  keep_scratch_in_heap();
  std::fprintf(stderr, "bench: isa: %s\n", cpu::cpu_features().describe().c_str());
  const int reps = o.quick ? 1 : o.reps;
  // One read buffer for the start-up ceiling and every probe around the cases.
  const bench::ReadProbe probe_buffer(o.quick ? 256 : o.read_buffer_mb);
  bench::Ceilings ceil = bench::measure_ceilings(probe_buffer, o.quick);
  std::fprintf(stderr, "bench: ceilings read %.1f GB/s, int8 %.3f TOPS, bf16 %.3f TFLOPS, fp32 %.3f TFLOPS\n",
               ceil.read_gb_per_s, ceil.int8_tops, ceil.bf16_tflops, ceil.fp32_tflops);

  std::vector<bench::CaseSpec> specs;
  // Non-positive entries drop a list (e.g. --prefill 0: no prefill cases).
  for (int64_t c : o.contexts)
    for (int64_t b : o.batches)
      if (c > 0 && b > 0) specs.push_back({bench::CasePhase::Decode, b, c, 0});
  for (int64_t n : o.prefill)
    if (n > 0) specs.push_back({bench::CasePhase::Prefill, 1, n, 0});
  if (o.mtp)  // verify steps of 1 + k tokens next to plain decode, batch 1 and 8, the first context
    for (int64_t b : {1, 8}) {
      const int64_t c = o.contexts.empty() || o.contexts[0] <= 0 ? 1024 : o.contexts[0];
      const bool have = std::any_of(specs.begin(), specs.end(), [&](const bench::CaseSpec& s) {
        return s.phase == bench::CasePhase::Decode && s.batch == b && s.context == c && s.new_tokens == 1;
      });
      if (!have) specs.push_back({bench::CasePhase::Decode, b, c, 0});
      for (int64_t k = 1; k <= 3; ++k) specs.push_back({bench::CasePhase::Decode, b, c, 0, 1 + k});
    }
  std::vector<bench::CaseSpec> scaling;
  if (o.scaling) {
    for (int64_t c : {512, 1024, 2048, 4096, 8192}) scaling.push_back({bench::CasePhase::Decode, 1, c, 0});
    for (int64_t k : {1, 2, 4, 8}) scaling.push_back({bench::CasePhase::Decode, 1, 1024, k});
  }

  std::vector<bench::CaseResult> results;
  const int read_passes = o.quick ? 2 : 3;
  auto run_all = [&](const DeepseekModel& m, bench::BenchWeights w, bool with_scaling) {
    std::fprintf(stderr, "bench: %s weights, %s compute, %lld layer(s), %.2f GB of weights\n", bench::weights_label(w),
                 compute_precision_name(m.compute_precision()), static_cast<long long>(m.config().num_hidden_layers),
                 static_cast<double>(m.weights().bytes) / 1e9);
    auto one = [&](const bench::CaseSpec& s) {
      auto probe = [&] {
        const double gb = probe_buffer.measure(read_passes);
        ceil.add_read_sample(gb);
        return gb;
      };
      // Prefill is compute-bound: the units' peaks are re-measured around it too.
      auto peaks = [&] {
        const bench::ComputePeaks p = bench::measure_compute_peaks(o.quick);
        ceil.add_peak_sample(p);
        return p;
      };
      const bool compute_bound = s.phase == bench::CasePhase::Prefill;
      results.push_back(bench::run_case(m, w, s, reps, probe, compute_bound ? std::function<bench::ComputePeaks()>(peaks)
                                                                            : std::function<bench::ComputePeaks()>()));
      const auto& r = results.back();
      char around[160] = "";
      if (compute_bound)
        std::snprintf(around, sizeof around, "; peaks around it int8 %.3f TOPS, bf16 %.3f, fp32 %.3f TFLOPS",
                      r.peaks.int8_tops, r.peaks.bf16_tflops, r.peaks.fp32_tflops);
      std::fprintf(stderr, "bench:   %s %s batch %lld context %lld top_k %lld: %.2f ms (read ceiling around it %.1f GB/s%s)\n",
                   bench::case_label(s).c_str(), bench::weights_label(w), static_cast<long long>(s.batch),
                   static_cast<long long>(s.context), static_cast<long long>(s.top_k), r.time_ms, r.read_gb_per_s,
                   around);
    };
    for (const auto& s : specs) one(s);
    if (with_scaling)
      for (const auto& s : scaling) one(s);
  };

  if (!o.model.empty()) {
    const auto model = load_model(o.model, precision);
    run_all(*model, weights_of(model->config()), o.scaling);
  } else {
    std::vector<bench::BenchWeights> formats;
    if (o.weights == "all" || o.weights == "w8a8") formats.push_back(bench::BenchWeights::W8A8);
    if (o.weights == "all" || o.weights == "bf16") formats.push_back(bench::BenchWeights::BF16);
    if (o.weights == "all" || o.weights == "fp8") formats.push_back(bench::BenchWeights::FP8);
    if (formats.empty()) throw Error("bench: --weights must be w8a8, bf16, fp8 or all, got '" + o.weights + "'");
    const auto cfg = bench::reference_config(o.synthetic, o.layers, o.experts);
    for (size_t i = 0; i < formats.size(); ++i) {
      // One format in memory at a time.
      std::shared_ptr<bench::SyntheticWeights> w = bench::make_synthetic_weights(cfg, formats[i], 1234);
      const DeepseekModel m(w->config, w->weights, w, cpu::make_cpu_backend(), precision);
      run_all(m, formats[i], o.scaling && i == 0);
    }
  }

  std::printf("%s", bench::report_table(ceil, results).c_str());
  if (o.mtp) {
    const ModelConfig mc = o.model.empty()
                               ? parse_model_config(bench::reference_config(o.synthetic, o.layers, o.experts).dump(),
                                                    "synthetic " + o.synthetic)
                               : load_model_config(o.model);
    std::printf("%s", bench::mtp_projection_table(bench::project_mtp(results, mc.num_hidden_layers, mc.hidden_size,
                                                                      mc.vocab_size)).c_str());
  }
  if (!o.json.empty()) {
    const nlohmann::json machine = {{"isa", cpu::cpu_features().describe()},
                                    {"threads", cpu::worker_threads()},
                                    {"model", o.model.empty() ? "synthetic " + o.synthetic : o.model},
                                    {"layers", o.layers},
                                    {"experts", o.experts},
                                    {"compute_precision", o.engine.precision}};
    std::ofstream f(o.json);
    if (!f) throw Error("bench: cannot write --json file " + o.json);
    f << bench::report_json(ceil, results, machine).dump(2) << "\n";
  }
  return 0;
}

}  // namespace

void register_bench_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<BenchOpts>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Measure the machine's ceilings (read GB/s, int8/bf16 peak) and time the engine per phase against them");
  cmd->add_option("--model", o->model, "Benchmark a real checkpoint directory");
  cmd->add_option("--synthetic", o->synthetic, "Random weights of real layer shapes: r1 | k2 (tiny: smoke test)");
  cmd->add_option("--layers", o->layers, "Synthetic: number of (MoE) layers")->check(CLI::PositiveNumber);
  cmd->add_option("--experts", o->experts, "Synthetic: routed experts per layer (real per-expert shapes)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--weights", o->weights, "Synthetic: w8a8 | bf16 | fp8 | all");
  cmd->add_option("--json", o->json, "Write the results as JSON to this file");
  cmd->add_option("--batches", o->batches, "Decode batch sizes")->delimiter(',');
  cmd->add_option("--contexts", o->contexts, "Decode context lengths")->delimiter(',');
  cmd->add_option("--prefill", o->prefill, "Prefill prompt lengths")->delimiter(',');
  cmd->add_option("--reps", o->reps, "Timed steps per case (fastest kept)")->check(CLI::PositiveNumber);
  cmd->add_option("--read-buffer-mb", o->read_buffer_mb, "Buffer of the bandwidth ceiling (>> last-level cache)");
  cmd->add_flag("--mtp", o->mtp,
                "Add MTP verify cases (1 + k tokens per sequence, k = 1..3, batch 1 and 8) and project tokens/s of "
                "speculative decoding to R1's proportions");
  cmd->add_flag("--scaling", o->scaling, "Add decode cases over context length and active experts (first format)");
  cmd->add_flag("--quick", o->quick, "One timed step per case, shorter ceiling runs");
  add_engine_options(cmd, o->engine);
  cmd->callback([&action, o] { action = [o] { return run_bench(*o); }; });
}

}  // namespace dsinfer::cli
