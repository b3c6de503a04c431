#pragma once
// The recipe's decomposition of a job into groups of ranks, by its names:
// attention TP groups are contiguous ranks (attn_dp_size = world /
// attn_tp_size of them), MoE EP groups are strided by moe_tp_size
// (moe_ep_size = world / moe_tp_size), and the dense, embedding and lm_head
// TP groups are contiguous ranks of their sizes.
#include <cstdint>
#include <memory>
#include <string>

#include "dist/communicator.h"

namespace dsinfer {

struct ParallelSizes {
  int64_t world = 1, attn_tp = 1, dense_tp = 1, moe_tp = 1, embed_tp = 1, lmhead_tp = 1;
  int64_t moe_ep = 0;  // 0: world / moe_tp; else checked against it (the recipe's SP configs set it)
  int64_t attn_dp() const { return world / attn_tp; }
  int64_t expert_parallel() const { return moe_ep > 0 ? moe_ep : world / moe_tp; }
  bool single() const { return world == 1; }
  // Throws Error naming the key after `where_prefix` ("parallel_config.attn_tp_size",
  // or with flag_names "--attn-tp-size") for a size that does not divide the
  // world and for combinations this engine does not run.
  void validate(const std::string& where_prefix, bool flag_names = false) const;
  std::string describe() const;  // "world 4: attn DP2 x TP2, MoE EP4, dense TP1, embed TP1, lm_head TP1"
};

// This rank's groups (created collectively from the world).
class ParallelContext {
 public:
  ParallelContext(Communicator& world, const ParallelSizes& sizes);
  const ParallelSizes& sizes() const { return sizes_; }
  int rank() const { return world_.rank(); }
  Communicator& world() const { return world_; }
  Communicator& attn_tp() const { return *attn_tp_; }
  Communicator& moe_ep() const { return *moe_ep_; }
  Communicator& moe_tp() const { return *moe_tp_; }
  Communicator& dense_tp() const { return *dense_tp_; }
  Communicator& embed_tp() const { return *embed_tp_; }
  Communicator& lmhead_tp() const { return *lmhead_tp_; }
  int64_t attn_dp_rank() const { return rank() / sizes_.attn_tp; }
  // Every group's counters, summed (the world's control traffic included).
  CommCounters counters() const;
  void reset_counters();

 private:
  Communicator& world_;
  ParallelSizes sizes_;
  std::unique_ptr<Communicator> attn_tp_, moe_ep_, moe_tp_, dense_tp_, embed_tp_, lmhead_tp_;
};

}  // namespace dsinfer
