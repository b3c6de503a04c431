#pragma once
// `dsinfer convert`: FP8 release checkpoint -> bfloat16 / W8A8C16 / W8A8C8,
// streamed shard by shard (tensors converted on all threads while the
// previous ones are written), built in a staging directory and renamed onto
// the output only when complete.
#include <cstddef>
#include <vector>

#include "convert/convert_options.h"

namespace dsinfer::convert {

struct ConvertReport {
  size_t input_bytes = 0;   // tensor bytes read
  size_t output_bytes = 0;  // tensor bytes written
  double seconds = 0.0;              // whole run, C8 calibration included
  double mb_per_s = 0.0;             // input MB per second while streaming tensors
  std::vector<float> ckv_scales;    // C8 only, per layer
};

// Throws Error (message names the file / tensor) on any failure, after
// removing the staging directory; the output path is then left untouched.
ConvertReport convert_checkpoint(const ConvertOptions& options);

}  // namespace dsinfer::convert
