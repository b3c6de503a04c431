// dsinfer run: the Ascend sample's offline inference job from a YAML run config, or
// (with no --config) the built-in random-weight DeepSeek-R1-shaped demo.
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands/command.h"
#include "cli/commands/engine_options.h"
#include "cli/commands/parallel_setup.h"
#include "io/run_config.h"
#include "runtime/offline_job.h"

namespace dsinfer::cli {

void register_run_command(CLI::App& app, Action& action) {
  struct Opts {
    std::string config, output;
    bool no_warmup = false, quiet = false;
    EngineOptions engine;
    int64_t show = 2;
    double forced_acceptance = -1;
  };
  auto opts = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Offline batch inference from a YAML run config (the Ascend sample's infer.sh job) and a performance report; "
             "without --config runs the built-in random-weight DeepSeek-R1-shaped demo");
  cmd->add_option("--config", opts->config, "YAML run config (see configs/); omit for the built-in demo");
  cmd->add_option("--output", opts->output, "Write the results JSON here (schema in README)");
  cmd->add_flag("--no-warmup", opts->no_warmup, "Skip the warm-up pass (prefill + one decode step)");
  cmd->add_flag("--quiet", opts->quiet, "No progress bar / progress lines");
  add_engine_options(cmd, opts->engine);
  cmd->add_option("--show-outputs", opts->show, "How many decoded sequences to print")->capture_default_str();
  cmd->add_option("--mtp-forced-acceptance", opts->forced_acceptance,
                  "Benchmark with next_n > 0: keep each MTP draft with this probability whatever the target says, "
                  "to time decode at a chosen acceptance (the text is not the model's; -1: off)")
      ->check(CLI::Range(-1.0, 1.0))
      ->capture_default_str();
  cmd->callback([&action, opts] {
    action = [opts] {
      OfflineJobOptions jo;
      jo.output_json = opts->output;
      jo.warmup = !opts->no_warmup;
      jo.progress = !opts->quiet;
      jo.show_sequences = opts->show;
      jo.allow_nonfinite = opts->engine.allow_nonfinite;
      jo.forced_acceptance = opts->forced_acceptance < 0 ? -1 : opts->forced_acceptance;
      // Relative dataset paths: the working directory first, then the source tree.
      jo.search_roots = {std::filesystem::current_path().string(), DSINFER_SOURCE_DIR};
      RunConfig cfg;
      if (opts->config.empty()) {
        if (is_root()) std::fprintf(stderr, "dsinfer: no --config given: running the built-in demo (random weights)\n");
        cfg = demo_run_config(std::string(DSINFER_SOURCE_DIR) + "/assets/deepseek-r1");
        jo.label = "built-in demo: DeepSeek-R1-shaped model, RANDOM weights, real tokenizer";
      } else {
        agreed([&] { cfg = load_run_config(opts->config); });
        // Relative dataset paths in a YAML are also looked up beside it.
        jo.search_roots.insert(jo.search_roots.begin() + 1,
                               std::filesystem::absolute(opts->config).parent_path().string());
      }
      // A measured run: each worker thread keeps its core and caches.
      // Under mpirun (world_size = -np) every rank runs its part; rank 0 reports.
      const auto& p = cfg.parallel;
      jo.parallel = open_parallel(ParallelSizes{cfg.world_size, p.attn_tp_size, p.dense_tp_size, p.moe_tp_size,
                                                p.embed_tp_size, p.lmhead_tp_size, p.moe_ep_size_set},
                                  cfg.source + ": ", false);
      agreed([&] { jo.precision = apply_engine_options(opts->engine, "run", !opts->quiet && is_root()); });
      run_offline_job(cfg, jo);
      return 0;
    };
  });
}

}  // namespace dsinfer::cli
