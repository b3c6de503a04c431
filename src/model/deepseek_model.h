#pragma once
// The DeepSeek-V3 family causal LM (DeepSeek-V3, R1, Kimi-K2, V2-Lite-style
// configs): embedding -> N x [RMSNorm, MLA, RMSNorm, dense MLP or MoE] ->
// RMSNorm -> lm_head, on a backend's ops. Reads every dimension from
// config.json. This is the one decoder loop: every command, the benchmark
// (through ForwardObserver) and every parallel mode run it.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backend/ops.h"
#include "io/model_config.h"
#include "model/forward_batch.h"
#include "model/mla_attention.h"
#include "model/model_parallel.h"
#include "model/model_weights.h"
#include "model/yarn_rope.h"

namespace dsinfer {

class DeepseekModel {
 public:
  // Maps the checkpoint in model_dir and validates it against its config.json.
  // precision: nullopt picks default_compute_precision (fp32 for FP8 releases,
  // bf16 for converted bf16/W8A8 checkpoints).
  // With `parallel`, this rank's part of the model (model/rank_weights.h):
  // every rank of the job loads it, and every forward is collective.
  static std::unique_ptr<DeepseekModel> load(const std::string& model_dir, std::shared_ptr<Ops> ops,
                                             std::optional<ComputePrecision> precision = std::nullopt,
                                             std::shared_ptr<ParallelContext> parallel = nullptr);
  // A model over weights held elsewhere (the benchmark's in-memory weights):
  // `weights` must live as long as `owner`, which the model keeps.
  // `weights` are this rank's shard when `parallel` is set (with its RankShard).
  DeepseekModel(ModelConfig config, ModelWeights& weights, std::shared_ptr<void> owner, std::shared_ptr<Ops> ops,
                std::optional<ComputePrecision> precision = std::nullopt,
                std::shared_ptr<ParallelContext> parallel = nullptr, const RankShard& shard = {});
  // Layers hold references into the model.
  DeepseekModel(const DeepseekModel&) = delete;
  DeepseekModel& operator=(const DeepseekModel&) = delete;
  DeepseekModel(DeepseekModel&&) = delete;
  DeepseekModel& operator=(DeepseekModel&&) = delete;

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  ComputePrecision compute_precision() const { return precision_; }
  Ops& ops() const { return *ops_; }
  // The job this model is one rank of (null: a single process). A forward
  // with no tokens is allowed then: the rank still takes part in the
  // exchanges of the other ranks' tokens.
  ParallelContext* parallel() const { return parallel_ ? &parallel_->context() : nullptr; }
  // A NaN or Inf in the hidden state is an error naming the first layer that
  // produced it (broken weights or config values); allowed, it is one loud
  // warning on stderr instead (--allow-nonfinite).
  void allow_nonfinite(bool allow) const { allow_nonfinite_ = allow; }
  // Routed-expert weight bytes this rank holds and has resident, and the
  // same over every expert of the checkpoint (= its own in one process).
  struct ExpertFootprint {
    uint64_t mine_bytes = 0, mine_resident = 0, all_bytes = 0, all_resident = 0;
  };
  ExpertFootprint routed_expert_footprint() const;
  // Cache shape for this model; max_pages pages of page_size tokens.
  CacheGeometry cache_geometry(int64_t page_size, int64_t max_pages) const;
  // A latent cache for this model (int8 with the checkpoint's scales under C8).
  PagedLatentCache make_cache(int64_t page_size, int64_t max_pages) const;

  // Runs the new tokens of every entry through the model, writing them into
  // the cache at each sequence's next positions; the caller must have
  // reserved those pages. One forward at a time per model (the Engine
  // serializes its steps): activations live in buffers kept between
  // forwards, so a step does not fault in and zero hundreds of MB again. Returns logits [rows, vocab] with, per entry in
  // order, one row per new token (all_logits), one row for its last token, or none
  // (logits = false).
  std::vector<float> forward(std::span<const BatchEntry> batch, PagedLatentCache& cache,
                             const ForwardOptions& options = {}) const;

  // The multi-token-prediction layer (the first of num_nextn_predict_layers),
  // when the checkpoint has it. Its cache has one layer.
  bool has_mtp() const { return !weights_.mtp.empty(); }
  PagedLatentCache make_mtp_cache(int64_t page_size, int64_t max_pages) const;
  // One MTP pass: entry b's token j is t[i+1] for the position i whose
  // hidden state is row (row_begin + j) of `hidden` [tokens, hidden_size]
  // (the main model's final-normed state, or for a chained draft this
  // layer's own normalized output). Writes the positions into mtp_cache like
  // forward(); returns logits as forward() does (row for position i predicts
  // t[i+2]) and, when normed_out is set, shared_head.norm of every token's
  // output [tokens, hidden], the H of the next chained application.
  std::vector<float> forward_mtp(std::span<const BatchEntry> batch, const float* hidden, PagedLatentCache& mtp_cache,
                                 const ForwardOptions& options = {}, std::vector<float>* normed_out = nullptr) const;

 private:
  BatchLayout plan_batch(std::span<const BatchEntry> batch, const PagedLatentCache& cache,
                         const ForwardOptions& options, int64_t cache_layers) const;
  // One decoder block on buffers_.x in place (its latent into cache layer cache_layer).
  void run_block(const LayerWeights& L, int64_t layer, int64_t cache_layer, std::span<const BatchEntry> batch,
                 const BatchLayout& layout, PagedLatentCache& cache, const ForwardOptions& options) const;
  // The rows whose logits are wanted, RMS-normed with `norm` (null: x holds
  // normed rows already) and through `head`.
  void embed(const LinearWeight& table, std::span<const BatchEntry> batch, const BatchLayout& layout, float* x) const;
  std::vector<float> head_rows(std::span<const BatchEntry> batch, const BatchLayout& layout, const float* x,
                               const float* norm, const LinearWeight& head) const;

  ModelConfig config_;
  std::shared_ptr<void> owner_;
  ModelWeights& weights_;
  std::shared_ptr<Ops> ops_;
  ComputePrecision precision_;
  std::unique_ptr<ModelParallel> parallel_;
  const ModelWeights* full_weights_ = nullptr;  // the whole checkpoint's, under parallel_
  mutable bool allow_nonfinite_ = false;
  mutable bool warned_nonfinite_ = false;
  void check_finite(const float* x, int64_t n, int64_t layer, const char* where) const;
  YarnRope rope_;
  MlaAttention attention_;
  // Activations of the last forward, reused (every element is written before it is read).
  struct Buffers {
    std::vector<float> x, h, y, rows, mtp_in;
    MlaWorkspace attention;
  };
  mutable Buffers buffers_;
};

}  // namespace dsinfer
