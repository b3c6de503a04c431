// dsinfer logits: float32 logits at every prompt position, as a .npy file.
#include <memory>
#include <string>

#include "cli/commands/command.h"
#include "cli/commands/engine_options.h"
#include "cli/commands/parallel_setup.h"
#include "cli/commands/token_ids.h"
#include "io/npy_writer.h"
#include "io/output_file.h"
#include "runtime/generation.h"
#include "runtime/load_model.h"

namespace dsinfer::cli {

void register_logits_command(CLI::App& app, Action& action) {
  struct Opts {
    std::string model, ids, ids_file, out;
    EngineOptions engine;
    ParallelFlags parallel;
    bool mtp = false;
  };
  auto opts = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("logits", "Write float32 logits [n_ids, vocab] for every prompt position (.npy)");
  cmd->add_option("--model", opts->model, "Model directory (config.json + safetensors)")->required();
  auto* ids_flag = cmd->add_option("--ids", opts->ids, "Comma-separated prompt token ids, e.g. 5,17,9");
  auto* ids_file = cmd->add_option("--ids-file", opts->ids_file,
                                   "File of prompt token ids (separated by commas, spaces or newlines)");
  ids_flag->excludes(ids_file);
  cmd->add_option("--out", opts->out, "Output .npy path (NumPy v1.0, '<f4', C order)")->required();
  cmd->add_flag("--mtp", opts->mtp,
                "The MTP layer's logits instead: [n_ids - 1, vocab], row i predicts ids[i+2] from ids[..i+1]");
  add_engine_options(cmd, opts->engine);
  add_parallel_flags(cmd, opts->parallel);
  cmd->callback([&action, opts] {
    action = [opts] {
      // Under mpirun the first attention-DP group computes; rank 0 writes.
      auto parallel = open_parallel(opts->parallel);
      std::vector<int32_t> ids;
      std::optional<ComputePrecision> precision;
      std::unique_ptr<DeepseekModel> model;
      agreed([&] {
        ids = token_ids_from(opts->ids, opts->ids_file);
        precision = apply_engine_options(opts->engine, "logits", false);
        model = load_model(opts->model, precision, parallel);
        model->allow_nonfinite(opts->engine.allow_nonfinite);
      });
      std::vector<float> logits;
      if (!parallel || parallel->attn_dp_rank() == 0)
        logits = opts->mtp ? mtp_prompt_logits(*model, ids) : prompt_logits(*model, ids);
      else
        take_part_in_steps(*model, opts->mtp);
      const auto rows = static_cast<int64_t>(ids.size()) - (opts->mtp ? 1 : 0);
      if (is_root())
        write_npy_f32(opts->out, {rows, model->config().vocab_size}, logits.data(), "--out",
                      model_input_files(opts->model));
      return 0;
    };
  });
}

}  // namespace dsinfer::cli
