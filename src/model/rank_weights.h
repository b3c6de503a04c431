#pragma once
// The part of the weights one rank of a parallel job computes with: its
// attention heads (attention TP), its routed experts (MoE EP) or every
// expert's slice of the intermediate dimension (MoE TP), its dense-MLP
// slice, its vocabulary rows of the embedding and the heads. Everything
// else is replicated. Views into the mapped checkpoint wherever the format
// allows, so a rank never reads the pages of another rank's experts.
#include <memory>

#include "backend/weight_slice.h"
#include "dist/parallel_plan.h"
#include "io/model_config.h"
#include "model/model_weights.h"

namespace dsinfer {

// What this rank holds, as ranges of the full model's dimensions.
struct RankShard {
  SliceRange heads, experts, embed_vocab, lmhead_vocab;
  int64_t attn_tp = 1, dense_tp = 1, moe_tp = 1, moe_ep = 1, embed_tp = 1, lmhead_tp = 1;
};

struct RankWeights {
  ModelWeights weights;  // bytes: what this rank's graph reads
  WeightStore store;     // slices that had to be copied
  RankShard shard;
};

// Throws Error naming the config field and parallel size that do not fit
// (heads not divisible by attn_tp_size, more EP ranks than experts, ...).
RankShard plan_rank_shard(const ModelConfig& config, const ParallelSizes& sizes, int rank);
std::unique_ptr<RankWeights> shard_weights(const ModelWeights& full, const ModelConfig& config,
                                           const ParallelSizes& sizes, int rank);

}  // namespace dsinfer
