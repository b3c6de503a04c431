#include "model/deepseek_model.h"

#include <algorithm>

#include "io/error.h"
#include "model/moe_layer.h"

namespace dsinfer {

std::unique_ptr<DeepseekModel> DeepseekModel::load(const std::string& model_dir, std::shared_ptr<Ops> ops,
                                                   std::optional<ComputePrecision> precision) {
  ModelConfig cfg = load_model_config(model_dir);
  auto checkpoint = std::make_shared<LoadedCheckpoint>(model_dir, cfg);
  ModelWeights& weights = checkpoint->weights();
  return std::make_unique<DeepseekModel>(std::move(cfg), weights, std::move(checkpoint), std::move(ops), precision);
}

DeepseekModel::DeepseekModel(ModelConfig config, ModelWeights& weights, std::shared_ptr<void> owner,
                             std::shared_ptr<Ops> ops, std::optional<ComputePrecision> precision)
    : config_(std::move(config)),
      owner_(std::move(owner)),
      weights_(weights),
      ops_(std::move(ops)),
      precision_(precision.value_or(default_compute_precision(weights_.layers))),
      rope_(config_),
      attention_(config_, rope_, precision_, *ops_) {
  apply_compute_precision(weights_.layers, weights_.lm_head, precision_);
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

BatchLayout DeepseekModel::plan_batch(std::span<const BatchEntry> batch, const PagedLatentCache& cache,
                                      const ForwardOptions& options) const {
  if (batch.empty()) throw Error("forward: empty batch");
  const CacheGeometry& g = cache.geometry();
  if (g.n_layers != config_.num_hidden_layers || g.latent_dim != config_.kv_lora_rank ||
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

std::vector<float> DeepseekModel::forward(std::span<const BatchEntry> batch, PagedLatentCache& cache,
                                          const ForwardOptions& options) const {
  const BatchLayout layout = plan_batch(batch, cache, options);
  Ops& ops = *ops_;
  ForwardObserver* obs = options.observer;
  const ModelWeights& w = weights_;
  const int64_t H = config_.hidden_size, T = layout.total_tokens;
  const double eps = config_.rms_norm_eps;

  std::vector<float>& x = buffers_.x;
  std::vector<float>& h = buffers_.h;
  std::vector<float>& y = buffers_.y;
  for (auto* v : {&x, &h, &y}) v->resize(static_cast<size_t>(T * H));
  if (options.input_hidden) {
    std::copy(options.input_hidden, options.input_hidden + T * H, x.begin());
  } else {
    for (size_t b = 0; b < batch.size(); ++b) ops.embed(w.embed_tokens, batch[b].tokens, x.data() + layout.row_begin[b] * H);
  }
  MlaWorkspace& attention_workspace = buffers_.attention;  // shared by all layers
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i) {
    const LayerWeights& L = w.layers[static_cast<size_t>(i)];
    ops.rms_norm(x.data(), T, H, H, L.input_layernorm.data(), eps, h.data());
    attention_.forward(L.attn, i, h.data(), batch, layout, cache, y.data(), attention_workspace, obs);
    ops.add(x.data(), y.data(), T * H);
    if (obs) obs->phase_done(StepPhase::Attention, i);
    ops.rms_norm(x.data(), T, H, H, L.post_attention_layernorm.data(), eps, h.data());
    if (L.moe) moe_forward(ops, config_, *L.moe, i, h.data(), T, y.data(), options);
    else ops.gated_mlp(*L.dense_mlp, h.data(), T, y.data());
    ops.add(x.data(), y.data(), T * H);
    if (obs) obs->phase_done(L.moe ? StepPhase::SharedExpert : StepPhase::Mlp, i);
  }
  // Every layer wrote the new positions: they are now part of the sequences.
  for (size_t b = 0; b < batch.size(); ++b) cache.commit(batch[b].seq, layout.start_pos[b] + layout.n_tokens[b]);

  // Only the rows whose logits are wanted go through the final norm and lm_head.
  std::vector<int64_t> rows;
  for (size_t b = 0; b < batch.size(); ++b) {
    if (!batch[b].logits) continue;
    const int64_t first = batch[b].all_logits ? 0 : layout.n_tokens[b] - 1;
    for (int64_t j = first; j < layout.n_tokens[b]; ++j) rows.push_back(layout.row_begin[b] + j);
  }
  const int64_t R = static_cast<int64_t>(rows.size());
  if (R == 0) return {};
  std::vector<float>& hr = buffers_.rows;
  hr.resize(static_cast<size_t>(R * H));
  for (int64_t r = 0; r < R; ++r) std::copy(x.data() + rows[r] * H, x.data() + (rows[r] + 1) * H, hr.data() + r * H);
  ops.rms_norm(hr.data(), R, H, H, w.final_norm.data(), eps, hr.data());
  std::vector<float> logits(static_cast<size_t>(R * config_.vocab_size));
  ops.linear(w.lm_head, hr.data(), R, logits.data());
  if (obs) obs->phase_done(StepPhase::LmHead, config_.num_hidden_layers);
  return logits;
}

}  // namespace dsinfer
