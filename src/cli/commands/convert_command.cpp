// dsinfer convert: FP8 release checkpoint -> bfloat16 / W8A8C16 / W8A8C8.
// Flag names follow the seed's weight_convert.sh.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands/command.h"
#include "convert/convert_checkpoint.h"
#include "convert/staging_dir.h"

namespace dsinfer::cli {

void register_convert_command(CLI::App& app, Action& action) {
  struct Opts {
    convert::ConvertOptions c;
    std::string mode;
    double percentile = 0.0;
    bool quiet = false;
  };
  auto opts = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert an FP8 release checkpoint to bfloat16, W8A8C16 or W8A8C8");
  cmd->add_option("--input_fp8_hf_path", opts->c.input_dir, "FP8 release checkpoint directory")->required();
  cmd->add_option("--output_hf_path", opts->c.output_dir, "Output directory (built in OUT.tmp-*, renamed when done)")
      ->required();
  cmd->add_option("--quant_mode", opts->mode, "bfloat16 | w8a8c16 | w8a8c8")
      ->required()
      ->check(CLI::IsMember({"bfloat16", "w8a8c16", "w8a8c8"}));
  cmd->add_flag("--force", opts->c.force, "Replace a non-empty output directory");
  cmd->add_option("--threads", opts->c.threads, "Conversion threads (default: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--calib-data", opts->c.calib_data,
                  "w8a8c8: JSONL calibration set, one {\"ids\": [...]} per line (default: seeded random ids)");
  auto* pct = cmd->add_option("--calib-percentile", opts->percentile,
                              "w8a8c8: ckv_scale from this percentile of |c_kv| instead of the max")
                  ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--quant_param_path", opts->c.quant_param_path,
                  "w8a8c8: directory of safetensors with precomputed model.layers.{i}.self_attn.ckv_scale");
  cmd->add_flag("--quiet", opts->quiet, "No progress output");
  cmd->callback([&action, opts, pct] {
    action = [opts, pct] {
      // Before any thread starts, so none of them takes the signal itself.
      convert::StagingDir::remove_on_stop_signals();
      opts->c.mode = convert::parse_quant_mode(opts->mode);
      if (pct->count() > 0) opts->c.calib_percentile = opts->percentile;
      if (opts->quiet) opts->c.progress = convert::ProgressStyle::Quiet;
      const auto report = convert::convert_checkpoint(opts->c);
      std::printf("converted %s -> %s (%s): %.1f MB read, %.1f MB written, %.2f s total, tensors at %.1f MB/s\n",
                  opts->c.input_dir.c_str(), opts->c.output_dir.c_str(), opts->mode.c_str(),
                  static_cast<double>(report.input_bytes) / 1e6, static_cast<double>(report.output_bytes) / 1e6,
                  report.seconds, report.mb_per_s);
      return 0;
    };
  });
}

}  // namespace dsinfer::cli
