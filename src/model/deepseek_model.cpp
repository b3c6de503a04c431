#include "model/deepseek_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "dist/node_ranks.h"
#include "io/error.h"
#include "io/resident_pages.h"
#include "model/moe_layer.h"

namespace dsinfer {

std::unique_ptr<DeepseekModel> DeepseekModel::load(const std::string& model_dir, std::shared_ptr<Ops> ops,
                                                   std::optional<ComputePrecision> precision,
                                                   std::shared_ptr<ParallelContext> parallel) {
  ModelConfig cfg = load_model_config(model_dir);
  auto checkpoint = std::make_shared<LoadedCheckpoint>(model_dir, cfg);
  if (!parallel)
    return std::make_unique<DeepseekModel>(std::move(cfg), checkpoint->weights(), checkpoint, std::move(ops), precision);
  // The rank's shard views the checkpoint's mapping, which it keeps alive.
  struct Owner {
    std::shared_ptr<LoadedCheckpoint> checkpoint;
    std::unique_ptr<RankWeights> rank;
  };
  auto owner = std::make_shared<Owner>();
  owner->rank = shard_weights(checkpoint->weights(), cfg, parallel->sizes(), parallel->rank());
  owner->checkpoint = std::move(checkpoint);
  RankWeights& rank = *owner->rank;
  auto model = std::make_unique<DeepseekModel>(std::move(cfg), rank.weights, owner, std::move(ops), precision,
                                               std::move(parallel), rank.shard);
  model->full_weights_ = &owner->checkpoint->weights();
  return model;
}

DeepseekModel::DeepseekModel(ModelConfig config, ModelWeights& weights, std::shared_ptr<void> owner,
                             std::shared_ptr<Ops> ops, std::optional<ComputePrecision> precision,
                             std::shared_ptr<ParallelContext> parallel, const RankShard& shard)
    : config_(std::move(config)),
      owner_(std::move(owner)),
      weights_(weights),
      ops_(std::move(ops)),
      precision_(precision.value_or(default_compute_precision(weights_.layers))),
      parallel_(parallel ? std::make_unique<ModelParallel>(std::move(parallel), shard) : nullptr),
      rope_(config_),
      attention_(config_, rope_, precision_, *ops_, parallel_ ? shard.heads.size() : config_.num_attention_heads) {
  apply_compute_precision(weights_.layers, weights_.lm_head, precision_);
  // Ranks sharing a machine share the mapped checkpoint's page cache: a
  // private copy per rank would multiply every weight they replicate.
  const bool pack = ranks_on_this_node() == 1;
  if (pack) pack_linears(weights_.layers, weights_.lm_head, *ops_);
  for (MtpWeights& m : weights_.mtp) {
    apply_compute_precision(std::span<LayerWeights>(&m.block, 1), m.shared_head, precision_);
    m.eh_proj.bf16_inputs = precision_ == ComputePrecision::BF16 && m.eh_proj.format == WeightFormat::BF16;
    if (!pack) continue;
    pack_linears(std::span<LayerWeights>(&m.block, 1), m.shared_head, *ops_);
    ops_->pack_weight(m.eh_proj);
  }
}

CacheGeometry DeepseekModel::cache_geometry(int64_t page_size, int64_t max_pages) const {
  return CacheGeometry{config_.num_hidden_layers, config_.kv_lora_rank, config_.qk_rope_head_dim, page_size,
                       max_pages, config_.quant.kv_cache_int8};
}

PagedLatentCache DeepseekModel::make_cache(int64_t page_size, int64_t max_pages) const {
  PagedLatentCache cache(cache_geometry(page_size, max_pages));
  if (config_.quant.kv_cache_int8) {
    std::vector<float> scales;
    for (const auto& l : weights_.layers) scales.push_back(l.attn.ckv_scale);
    cache.set_latent_scales(std::move(scales));
  }
  return cache;
}

PagedLatentCache DeepseekModel::make_mtp_cache(int64_t page_size, int64_t max_pages) const {
  if (!has_mtp()) throw Error(config_.path + ": the checkpoint has no MTP layer (model.layers." +
                              std::to_string(config_.num_hidden_layers) + ".*, num_nextn_predict_layers " +
                              std::to_string(config_.num_nextn_predict_layers) + ")");
  PagedLatentCache cache(CacheGeometry{1, config_.kv_lora_rank, config_.qk_rope_head_dim, page_size, max_pages,
                                       config_.quant.kv_cache_int8});
  if (config_.quant.kv_cache_int8) cache.set_latent_scales({weights_.mtp[0].block.attn.ckv_scale});
  return cache;
}

DeepseekModel::ExpertFootprint DeepseekModel::routed_expert_footprint() const {
  // Pages of the checkpoint's mapping in this process, plus (own experts)
  // the backend's packed copies, resident by construction (their mapped
  // pages were handed back).
  auto add = [](const ModelWeights& w, uint64_t& bytes, uint64_t& mapped, uint64_t& packed) {
    for (const LayerWeights& L : w.layers) {
      if (!L.moe) continue;
      for (const MlpWeights& e : L.moe->experts)
        for (const LinearWeight* t : {&e.gate, &e.up, &e.down}) {
          bytes += t->bytes();
          mapped += resident_bytes(t->data, t->bytes());
          if (t->packed) packed += t->bytes();
        }
    }
  };
  ExpertFootprint f;
  uint64_t mine_mapped = 0, mine_packed = 0, all_mapped = 0, none = 0;
  add(weights_, f.mine_bytes, mine_mapped, mine_packed);
  f.mine_resident = mine_mapped + mine_packed;
  if (full_weights_) {
    add(*full_weights_, f.all_bytes, all_mapped, none);
    f.all_resident = all_mapped + mine_packed;
  } else {
    f.all_bytes = f.mine_bytes;
    f.all_resident = f.mine_resident;
  }
  return f;
}

BatchLayout DeepseekModel::plan_batch(std::span<const BatchEntry> batch, const PagedLatentCache& cache,
                                      const ForwardOptions& options, int64_t cache_layers) const {
  if (batch.empty() && !parallel_) throw Error("forward: empty batch");
  const CacheGeometry& g = cache.geometry();
  if (g.n_layers != cache_layers || g.latent_dim != config_.kv_lora_rank ||
      g.rope_dim != config_.qk_rope_head_dim || g.latent_int8 != config_.quant.kv_cache_int8)
    throw Error("forward: KV cache geometry does not match model " + config_.path);
  BatchLayout layout;
  for (size_t b = 0; b < batch.size(); ++b) {
    const BatchEntry& e = batch[b];
    const int64_t n = static_cast<int64_t>(e.tokens.size());
    if (n == 0) throw Error("request " + std::to_string(b) + ": empty prompt (no token ids)");
    for (int32_t id : e.tokens)
      if (id < 0 || id >= config_.vocab_size)
        throw Error("request " + std::to_string(b) + ": token id " + std::to_string(id) +
                    " out of vocabulary (vocab_size " + std::to_string(config_.vocab_size) + ")");
    const int64_t start = cache.length(e.seq);
    if (cache.capacity(e.seq) < start + n)
      throw Error("forward: sequence " + std::to_string(e.seq) + " has " + std::to_string(cache.capacity(e.seq)) +
                  " cache positions reserved and needs " + std::to_string(start + n) + " (reserve pages first)");
    layout.row_begin.push_back(layout.total_tokens);
    layout.n_tokens.push_back(n);
    layout.start_pos.push_back(start);
    for (int64_t j = 0; j < n; ++j) layout.positions.push_back(start + j);
    AttentionPath path = options.attention;
    if (path == AttentionPath::Auto) path = n == 1 ? AttentionPath::Absorbed : AttentionPath::Expanded;
    layout.path.push_back(path);
    layout.total_tokens += n;
  }
  return layout;
}

void DeepseekModel::run_block(const LayerWeights& L, int64_t layer, int64_t cache_layer,
                              std::span<const BatchEntry> batch, const BatchLayout& layout, PagedLatentCache& cache,
                              const ForwardOptions& options) const {
  Ops& ops = *ops_;
  ForwardObserver* obs = options.observer;
  const int64_t H = config_.hidden_size, T = layout.total_tokens;
  const double eps = config_.rms_norm_eps;
  float* x = buffers_.x.data();
  float* h = buffers_.h.data();
  float* y = buffers_.y.data();
  // A rank without tokens skips attention (its whole attention TP group has
  // none) but serves the feed-forward exchanges of the others.
  if (T > 0) {
    ops.rms_norm(x, T, H, H, L.input_layernorm.data(), eps, h);
    attention_.forward(L.attn, cache_layer, h, batch, layout, cache, y, buffers_.attention, obs);
    if (parallel_) parallel_->reduce_attention(y, T * H);
    ops.add(x, y, T * H);
    ops.rms_norm(x, T, H, H, L.post_attention_layernorm.data(), eps, h);
  }
  if (obs) obs->phase_done(StepPhase::Attention, layer);
  if (parallel_) {
    if (L.moe) parallel_->moe(ops, config_, *L.moe, layer, h, T, y, options);
    else parallel_->dense_mlp(ops, *L.dense_mlp, h, T, H, y);
  } else if (L.moe) {
    moe_forward(ops, config_, *L.moe, layer, h, T, y, options);
  } else {
    ops.gated_mlp(*L.dense_mlp, h, T, y);
  }
  if (T > 0) ops.add(x, y, T * H);
  if (obs) obs->phase_done(L.moe ? StepPhase::SharedExpert : StepPhase::Mlp, layer);
  check_finite(x, T * H, layer, "the hidden state after");
}

void DeepseekModel::check_finite(const float* x, int64_t n, int64_t layer, const char* where) const {
  bool finite = true;
  for (int64_t i = 0; i < n; ++i) finite &= std::isfinite(x[i]);
  if (finite) return;
  const std::string what = std::string("non-finite values (NaN/Inf) in ") + where + " model.layers." +
                           std::to_string(layer) + " of " + config_.path +
                           ": its weights or a config.json value (rms_norm_eps, rope_scaling, ...) are broken";
  if (!allow_nonfinite_) throw Error(what + " (--allow-nonfinite to continue anyway)");
  if (!warned_nonfinite_) std::fprintf(stderr, "dsinfer: WARNING: %s; continuing (--allow-nonfinite)\n", what.c_str());
  warned_nonfinite_ = true;
}

void DeepseekModel::embed(const LinearWeight& table, std::span<const BatchEntry> batch, const BatchLayout& layout,
                          float* x) const {
  const int64_t H = config_.hidden_size;
  if (!parallel_) {
    for (size_t b = 0; b < batch.size(); ++b) ops_->embed(table, batch[b].tokens, x + layout.row_begin[b] * H);
    return;
  }
  std::vector<int32_t> ids;
  for (const BatchEntry& e : batch) ids.insert(ids.end(), e.tokens.begin(), e.tokens.end());
  parallel_->embed(*ops_, table, ids, H, x);
}

std::vector<float> DeepseekModel::head_rows(std::span<const BatchEntry> batch, const BatchLayout& layout,
                                            const float* x, const float* norm, const LinearWeight& head) const {
  const int64_t H = config_.hidden_size;
  std::vector<int64_t> rows;
  for (size_t b = 0; b < batch.size(); ++b) {
    if (!batch[b].logits) continue;
    const int64_t first = batch[b].all_logits ? 0 : layout.n_tokens[b] - 1;
    for (int64_t j = first; j < layout.n_tokens[b]; ++j) rows.push_back(layout.row_begin[b] + j);
  }
  const int64_t R = static_cast<int64_t>(rows.size());
  if (R == 0 && !parallel_) return {};
  std::vector<float>& hr = buffers_.rows;
  hr.resize(static_cast<size_t>(R * H));
  for (int64_t r = 0; r < R; ++r) std::copy(x + rows[r] * H, x + (rows[r] + 1) * H, hr.data() + r * H);
  if (norm && R > 0) ops_->rms_norm(hr.data(), R, H, H, norm, config_.rms_norm_eps, hr.data());
  if (parallel_) return parallel_->head(*ops_, head, hr.data(), R, H, config_.vocab_size);
  std::vector<float> logits(static_cast<size_t>(R * config_.vocab_size));
  ops_->linear(head, hr.data(), R, logits.data());
  return logits;
}

std::vector<float> DeepseekModel::forward(std::span<const BatchEntry> batch, PagedLatentCache& cache,
                                          const ForwardOptions& options) const {
  const BatchLayout layout = plan_batch(batch, cache, options, config_.num_hidden_layers);
  Ops& ops = *ops_;
  const ModelWeights& w = weights_;
  const int64_t H = config_.hidden_size, T = layout.total_tokens;
  for (auto* v : {&buffers_.x, &buffers_.h, &buffers_.y}) v->resize(static_cast<size_t>(T * H));
  std::vector<float>& x = buffers_.x;
  if (options.input_hidden) {
    std::copy(options.input_hidden, options.input_hidden + T * H, x.begin());
  } else {
    embed(w.embed_tokens, batch, layout, x.data());
  }
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i)
    run_block(w.layers[static_cast<size_t>(i)], i, i, batch, layout, cache, options);
  // Every layer wrote the new positions: they are now part of the sequences.
  for (size_t b = 0; b < batch.size(); ++b) cache.commit(batch[b].seq, layout.start_pos[b] + layout.n_tokens[b]);
  // Only the rows whose logits are wanted go through the final norm and
  // lm_head; with final_hidden every row is normed once, there.
  std::vector<float> logits;
  if (options.final_hidden) {
    options.final_hidden->resize(static_cast<size_t>(T * H));
    if (T > 0) ops.rms_norm(x.data(), T, H, H, w.final_norm.data(), config_.rms_norm_eps, options.final_hidden->data());
    logits = head_rows(batch, layout, options.final_hidden->data(), nullptr, w.lm_head);
  } else {
    logits = head_rows(batch, layout, x.data(), w.final_norm.data(), w.lm_head);
  }
  if (options.observer && !logits.empty()) options.observer->phase_done(StepPhase::LmHead, config_.num_hidden_layers);
  return logits;
}

std::vector<float> DeepseekModel::forward_mtp(std::span<const BatchEntry> batch, const float* hidden,
                                              PagedLatentCache& mtp_cache, const ForwardOptions& options,
                                              std::vector<float>* normed_out) const {
  if (!has_mtp()) throw Error(config_.path + ": the checkpoint has no MTP layer");
  const MtpWeights& m = weights_.mtp[0];
  const BatchLayout layout = plan_batch(batch, mtp_cache, options, 1);
  Ops& ops = *ops_;
  const int64_t H = config_.hidden_size, T = layout.total_tokens;
  const double eps = config_.rms_norm_eps;
  for (auto* v : {&buffers_.x, &buffers_.h, &buffers_.y}) v->resize(static_cast<size_t>(T * H));
  // x = eh_proj([enorm(E[t]); hnorm(H)]), the embedding half first.
  std::vector<float>& in = buffers_.mtp_in;
  in.resize(static_cast<size_t>(T * 2 * H));
  float* e = buffers_.h.data();
  embed(m.embed_tokens, batch, layout, e);
  for (int64_t r = 0; r < T; ++r) {
    std::copy(e + r * H, e + (r + 1) * H, in.data() + r * 2 * H);
    std::copy(hidden + r * H, hidden + (r + 1) * H, in.data() + r * 2 * H + H);
  }
  if (T > 0) {
    ops.rms_norm(in.data(), T, H, 2 * H, m.enorm.data(), eps, in.data());
    ops.rms_norm(in.data() + H, T, H, 2 * H, m.hnorm.data(), eps, in.data() + H);
    ops.linear(m.eh_proj, in.data(), T, buffers_.x.data());
  }
  const int64_t layer = config_.num_hidden_layers;  // model.layers.N in the release
  run_block(m.block, layer, 0, batch, layout, mtp_cache, options);
  for (size_t b = 0; b < batch.size(); ++b) mtp_cache.commit(batch[b].seq, layout.start_pos[b] + layout.n_tokens[b]);
  if (!normed_out) return head_rows(batch, layout, buffers_.x.data(), m.shared_head_norm.data(), m.shared_head);
  normed_out->resize(static_cast<size_t>(T * H));
  if (T > 0) ops.rms_norm(buffers_.x.data(), T, H, H, m.shared_head_norm.data(), eps, normed_out->data());
  return head_rows(batch, layout, normed_out->data(), nullptr, m.shared_head);
}

}  // namespace dsinfer
