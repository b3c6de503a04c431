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
#include "tokenizer/tokenizer.h"

namespace dsinfer::convert {

struct CalibrationSet {
  std::vector<std::vector<int32_t>> sequences;
  std::string source;  // for the log
};

std::string ckv_scale_name(int64_t layer);

// JSONL, one object per line with an "ids" array of token ids < vocab, or a
// "text" string when a tokenizer is given (the model directory's).
CalibrationSet read_calibration_jsonl(const std::string& path, int64_t vocab, const Tokenizer* tokenizer = nullptr);
// Built-in calibration texts (prose, dialogue, code, math, Chinese) rendered
// as chat turns with the model's template when it has one, then tokenized.
CalibrationSet builtin_text_calibration_set(const Tokenizer& tokenizer, int64_t vocab);
// Seeded pseudo-random token ids (deterministic across platforms): for model
// directories without tokenizer files, like the tiny test checkpoints.
CalibrationSet random_calibration_set(int64_t vocab, int64_t n_sequences = 8, int64_t length = 128,
                                      uint64_t seed = 20251128);

// Per layer (num_hidden_layers): max|c_kv| (or the given percentile of
// |c_kv|, in (0, 100]) over every calibration token, divided by 127.
std::vector<float> calibrate_ckv_scales(const DeepseekModel& model, const CalibrationSet& set,
                                        std::optional<double> percentile = std::nullopt);

// Precomputed scales: every model.layers.{i}.self_attn.ckv_scale, i < n_layers,
// from DIR/*.safetensors (F32, BF16 or F16, one positive value each).
std::vector<float> read_ckv_scales(const std::string& dir, int64_t n_layers);

}  // namespace dsinfer::convert
