#pragma once
// Decides, before anything is written, what every input tensor becomes:
// FP8 weights are dequantized to bf16 or quantized to int8 (+ weight_scale),
// their weight_scale_inv tensors are consumed, everything else is copied
// byte for byte. Shards and the tensor order inside them are kept. All
// input validation (missing or misshapen scales, non-FP8 input) happens here.
#include <cstdint>
#include <string>
#include <vector>

#include "convert/convert_options.h"
#include "io/model_config.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"

namespace dsinfer::convert {

enum class TensorAction { Copy, DequantBf16, QuantInt8 };

struct PlannedTensor {
  const TensorView* input = nullptr;
  const TensorView* scale_inv = nullptr;  // FP8 weights only
  TensorAction action = TensorAction::Copy;
  std::vector<TensorSpec> outputs;        // QuantInt8: weight then weight_scale
  size_t input_bytes() const;
};

struct ShardPlan {
  std::string file_name;  // same name in the output
  std::vector<PlannedTensor> tensors;
  size_t input_bytes = 0;
};

struct ConversionPlan {
  std::vector<ShardPlan> shards;
  std::vector<std::string> ignored_modules;  // W8A8: modules kept in bf16
  size_t input_bytes = 0;
};

// The seed's W8A8 ignore list: kv_b_proj (split into W_UK / W_UV at run
// time), the MoE router, lm_head and the MTP eh_proj / shared_head.head.
bool kept_in_bf16(const std::string& module);

// Throws Error naming the file and tensor for any input that is not a
// well-formed FP8 block-quantized release.
ConversionPlan plan_conversion(const Checkpoint& input, const QuantConfig& quant, QuantMode mode);

}  // namespace dsinfer::convert
