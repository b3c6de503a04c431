#pragma once
// A deliberately naive float64 re-statement of the Hugging Face
// DeepseekV3 forward pass (no cache, no batching, full dequantized weights,
// HF's de-interleave + rotate_half RoPE formulation), used to check the
// engine on synthetic configs for which no external golden file exists.
// It shares nothing with the engine except the safetensors reader.
#include <cstdint>
#include <string>
#include <vector>

namespace dsinfer::test {

// Logits [ids.size(), vocab] for the checkpoint in model_dir.
std::vector<double> reference_logits(const std::string& model_dir, const std::vector<int32_t>& ids);

}  // namespace dsinfer::test
