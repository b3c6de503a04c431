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

// Weights of one benchmark model (the layers, final norm and lm_head; the
// embedding is not needed: the benchmark feeds hidden states).
struct BenchModel {
  ModelConfig config;
  std::string weights;  // "w8a8" | "bf16" | "fp8" (or the checkpoint's format)
  std::vector<LayerWeights> owned_layers;
  const std::vector<LayerWeights>* layers = nullptr;
  std::vector<float> owned_final_norm;
  const std::vector<float>* final_norm = nullptr;
  LinearWeight lm_head;
  std::vector<std::unique_ptr<uint8_t[]>> storage;  // backing memory of the synthetic weights
  size_t weight_bytes = 0;
  ComputePrecision precision = ComputePrecision::Float32;
  std::shared_ptr<const void> owner;  // keeps a loaded checkpoint alive (--model)
};

// Sets the precision of a synthetic model's weights (flags) and attention.
void set_compute_precision(BenchModel& m, ComputePrecision p);

std::unique_ptr<BenchModel> make_synthetic_model(const nlohmann::json& config, BenchWeights format, uint64_t seed);

}  // namespace dsinfer::bench
