#pragma once
// What `dsinfer convert` (and scripts/weight_convert.sh) is asked to do.
#include <optional>
#include <string>

namespace dsinfer::convert {

enum class QuantMode { Bfloat16, W8A8C16, W8A8C8 };

// "bfloat16" | "w8a8c16" | "w8a8c8" (the seed's names); throws Error otherwise.
QuantMode parse_quant_mode(const std::string& name);
const char* quant_mode_name(QuantMode m);

enum class ProgressStyle { Auto, Bar, Lines, Quiet };

struct ConvertOptions {
  std::string input_dir;   // FP8 release checkpoint
  std::string output_dir;  // created (atomically) by the conversion
  QuantMode mode = QuantMode::Bfloat16;
  bool force = false;      // replace a non-empty output_dir
  int threads = 0;         // 0: all hardware threads
  // C8 calibration: jsonl with an "ids" array per line; empty = built-in set.
  std::string calib_data;
  // C8: scale from this percentile of |c_kv| instead of the maximum.
  std::optional<double> calib_percentile;
  // C8: directory of safetensors holding precomputed ckv_scale tensors.
  std::string quant_param_path;
  ProgressStyle progress = ProgressStyle::Auto;  // Auto: bar on a terminal
};

}  // namespace dsinfer::convert
