#pragma once
// In-memory random-weight models of the real per-layer shapes (DeepSeek-R1:
// hidden 7168, 128 heads, latent 512+64, experts of 2048, top-8; Kimi-K2:
// 64 heads, 384 experts) for the benchmark, in one of the stored formats the
// engine runs: W8A8 (int8 + per-channel scale; kv_b_proj, router and lm_head
// kept bf16 as `dsinfer convert` does), bf16, or the release FP8 layout
// (128x128 block scales; router and lm_head bf16). The tensors are those of
// io/checkpoint_schema.h. Nothing touches the disk.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/model_config.h"
#include "model/model_weights.h"

namespace dsinfer::bench {

enum class BenchWeights { W8A8, BF16, FP8 };
const char* weights_label(BenchWeights w);

// config.json of the real model ("r1", "k2"; "tiny" for smoke tests), with `experts` routed experts (0: all) and
// every layer a MoE layer.
nlohmann::json reference_config(const std::string& kind, int64_t layers, int64_t experts);

// Random weights of every decoder layer, the final norm and lm_head of
// `config`, in `format`; weights.embed_tokens stays empty (the benchmark
// feeds hidden states). `storage` backs every weight.
struct SyntheticWeights {
  ModelConfig config;
  ModelWeights weights;
  std::vector<std::unique_ptr<uint8_t[]>> storage;
  size_t weight_bytes = 0;
};
std::unique_ptr<SyntheticWeights> make_synthetic_weights(const nlohmann::json& config, BenchWeights format,
                                                         uint64_t seed);

}  // namespace dsinfer::bench
