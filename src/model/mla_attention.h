#pragma once
// Multi-head Latent Attention (DeepSeek-V2/V3): the graph of one layer's
// attention on the backend ops. Writes each new token's normalized latent
// and rotated k_pe into the paged cache, then attends per entry with the
// absorbed (decode) or expanded (prefill) formulation.
#include <span>
#include <vector>

#include "backend/ops.h"
#include "io/model_config.h"
#include "model/forward_batch.h"
#include "model/model_weights.h"
#include "model/yarn_rope.h"

namespace dsinfer {

// Activations of attention, reused across the layers of one forward.
struct MlaWorkspace {
  std::vector<float> q, qa, kv, o, q_lat, lat_out, q_rows, o_rows;
};

class MlaAttention {
 public:
  // heads: the heads this rank runs (all of them without attention TP).
  MlaAttention(const ModelConfig& config, const YarnRope& rope, ComputePrecision precision, Ops& ops, int64_t heads);

  // x: normalized hidden states [T, hidden]; out: [T, hidden].
  void forward(const AttentionWeights& w, int64_t layer, const float* x, std::span<const BatchEntry> batch,
               const BatchLayout& layout, PagedLatentCache& cache, float* out, MlaWorkspace& ws,
               ForwardObserver* observer) const;

 private:
  void attend_absorbed(const AttentionWeights& w, std::span<const AttentionSeq> seqs, const float* q, int64_t T,
                       float* o, MlaWorkspace& ws,
                       int64_t layer, ForwardObserver* observer) const;

  const ModelConfig& c_;
  const YarnRope& rope_;
  MlaShape shape_;
  Ops& ops_;
};

}  // namespace dsinfer
