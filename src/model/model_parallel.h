#pragma once
// How one decoder forward runs across the ranks of a parallel job (the
// recipe's decomposition; dist/parallel_plan.h names the groups):
// - attention TP: each rank runs its heads; o_proj is row-parallel, its
//   output all-reduced over the attention TP group;
// - rows: the tokens of an attention TP group are replicated on its ranks;
//   for the feed-forward each rank takes a contiguous slice of them and the
//   slices are all-gathered back afterwards;
// - MoE EP: the router runs where the tokens are, each (token, expert) row is
//   dispatched to the rank owning the expert (counts exchanged first, then
//   all-to-all-v), computed there with its weight and combined back;
// - MoE / dense / embedding / lm_head TP: the rows of the group are gathered,
//   each rank computes its slice (intermediate columns, vocabulary rows) for
//   all of them, and the parts are summed (all-reduce) or, for the lm_head,
//   exchanged so each rank gets full-vocabulary logits for its own rows.
// A rank with no tokens still takes part in every exchange.
#include <functional>
#include <span>
#include <vector>

#include "backend/ops.h"
#include "dist/parallel_plan.h"
#include "io/model_config.h"
#include "model/forward_batch.h"
#include "model/model_weights.h"
#include "model/rank_weights.h"

namespace dsinfer {

class ModelParallel {
 public:
  ModelParallel(std::shared_ptr<ParallelContext> context, const RankShard& shard);
  ParallelContext& context() const { return *context_; }
  const RankShard& shard() const { return shard_; }

  // out [T, hidden] = embedding rows of ids (this rank's vocabulary rows of
  // `table`, which holds shard().embed_vocab).
  void embed(Ops& ops, const LinearWeight& table, std::span<const int32_t> ids, int64_t hidden, float* out) const;
  // Sums the attention TP group's partial o_proj outputs.
  void reduce_attention(float* out, int64_t n) const;
  // out [T, hidden] = the feed-forward of x [T, hidden] (normed): the dense
  // MLP or the MoE block of this layer, by this rank's part of it.
  void dense_mlp(Ops& ops, const MlpWeights& w, const float* x, int64_t T, int64_t hidden, float* out) const;
  void moe(Ops& ops, const ModelConfig& config, const MoeWeights& w, int64_t layer, const float* x, int64_t T,
           float* out, const ForwardOptions& options) const;
  // logits [R, vocab] of R normed rows through `head` (holding shard().lmhead_vocab rows).
  std::vector<float> head(Ops& ops, const LinearWeight& head, const float* rows, int64_t R, int64_t hidden,
                          int64_t vocab) const;

 private:
  using RowsFn = std::function<void(const float* x, int64_t n, float* out)>;
  // Rows [begin, end) of T replicated rows that this rank of its attention TP group handles.
  SliceRange my_rows(int64_t T) const;
  // Gathers the slices back so every rank of the attention TP group holds all T rows.
  void restore_rows(float* rows, int64_t T, int64_t width) const;
  // out = sum over `group` of fn on the group's rows (this rank's share).
  void tensor_parallel(Communicator& group, const float* x, int64_t T, int64_t width, float* out, const RowsFn& fn) const;
  // The same for input rows of any element type and width (float hidden
  // states, int32 token ids): gather the group's rows, fn -> partial sums of
  // out_width floats per row, all-reduce, keep this rank's rows.
  template <class In, class Fn>
  void gather_and_sum(Communicator& group, const In* x, int64_t in_width, int64_t T, int64_t out_width, float* out,
                      Fn&& fn) const;
  void expert_parallel(Ops& ops, const ModelConfig& config, const MoeWeights& w, int64_t layer, const float* x,
                       int64_t n, float* out, const ForwardOptions& options) const;

  std::shared_ptr<ParallelContext> context_;
  RankShard shard_;
};

}  // namespace dsinfer
