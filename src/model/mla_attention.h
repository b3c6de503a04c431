#pragma once
// Multi-head Latent Attention (DeepSeek-V2/V3). Writes each new token's
// normalized latent and rotated k_pe into the paged cache, then attends.
#include <span>
#include <vector>

#include "io/model_config.h"
#include "model/forward_batch.h"
#include "model/model_weights.h"
#include "model/yarn_rope.h"

namespace dsinfer {

// Prefill expands the cached latents to per-head K/V this many keys at a time.
inline constexpr int64_t kExpandedKeyChunk = 1024;

// Large per-call buffers, reused across the layers of one forward so a long
// prefill does not fault in (and the kernel zero) hundreds of MB per layer.
struct MlaWorkspace {
  std::vector<float> q, qa, kva, o, latents, k_pe, kv;
};

class MlaAttention {
 public:
  // precision BF16: prefill (expanded) attention computes scores and values
  // with bf16 operands where the CPU has AVX512_BF16; decode is unaffected.
  MlaAttention(const ModelConfig& config, const YarnRope& rope, ComputePrecision precision = ComputePrecision::Float32)
      : c_(config), rope_(rope), precision_(precision) {}

  // x: normalized hidden states [T, hidden]; out: [T, hidden].
  void forward(const AttentionWeights& w, int64_t layer, const float* x, std::span<const BatchEntry> batch,
               const BatchLayout& layout, PagedLatentCache& cache, AttentionPath path, float* out,
               MlaWorkspace* workspace = nullptr) const;

 private:
  void attend_absorbed(const AttentionWeights& w, int64_t layer, const float* q, std::span<const BatchEntry> batch,
                       const BatchLayout& layout, const PagedLatentCache& cache, float* o) const;
  void attend_expanded(const AttentionWeights& w, int64_t layer, const float* q, std::span<const BatchEntry> batch,
                       const BatchLayout& layout, const PagedLatentCache& cache, float* o, MlaWorkspace& ws) const;

  const ModelConfig& c_;
  const YarnRope& rope_;
  ComputePrecision precision_;
};

}  // namespace dsinfer
