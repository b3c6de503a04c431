#pragma once
// C8 (int8 latent KV cache) scales: one static symmetric float32 scale per
// layer for the post-kv_a_layernorm latent c_kv, stored as
// model.layers.{i}.self_attn.ckv_scale [1]. The seed downloads vendor scales;
// we calibrate: run the W8A8 model over a calibration set and take
// scale = max|c_kv| / 127 per layer (max, not a percentile, by default: the
// latent is RMS-normalized, so outliers are bounded and clipping them would
// trade a rare large error for a tiny gain in resolution).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/deepseek_model.h"
#include "convert/calibration_set.h"

namespace dsinfer::convert {

std::string ckv_scale_name(int64_t layer);

// Per layer (num_hidden_layers): max|c_kv| (or the given percentile of
// |c_kv|, in (0, 100]) over every calibration token, divided by 127.
std::vector<float> calibrate_ckv_scales(const DeepseekModel& model, const CalibrationSet& set,
                                        std::optional<double> percentile = std::nullopt);

// Precomputed scales: every model.layers.{i}.self_attn.ckv_scale, i < n_layers,
// from DIR/*.safetensors (F32, BF16 or F16, one positive value each).
std::vector<float> read_ckv_scales(const std::string& dir, int64_t n_layers);

}  // namespace dsinfer::convert
