#include "model/deepseek_model.h"

#include <algorithm>

#include "io/error.h"
#include "kernels/cpu/cpu_ops.h"
#include "model/gated_mlp.h"
#include "model/moe_layer.h"

namespace dsinfer {

std::unique_ptr<DeepseekModel> DeepseekModel::load(const std::string& model_dir,
                                                   std::optional<ComputePrecision> precision) {
  ModelConfig cfg = load_model_config(model_dir);
  return std::unique_ptr<DeepseekModel>(new DeepseekModel(model_dir, std::move(cfg), precision));
}

DeepseekModel::DeepseekModel(const std::string& model_dir, ModelConfig config,
                             std::optional<ComputePrecision> precision)
    : config_(std::move(config)),
      checkpoint_(model_dir, config_),
      precision_(precision.value_or(default_compute_precision(checkpoint_.weights().layers))),
      rope_(config_),
      attention_(config_, rope_, precision_) {
  checkpoint_.set_compute_precision(precision_);
}

CacheGeometry DeepseekModel::cache_geometry(int64_t page_size, int64_t max_pages) const {
  return CacheGeometry{config_.num_hidden_layers, config_.kv_lora_rank, config_.qk_rope_head_dim, page_size,
                       max_pages, config_.quant.kv_cache_int8};
}

PagedLatentCache DeepseekModel::make_cache(int64_t page_size, int64_t max_pages) const {
  PagedLatentCache cache(cache_geometry(page_size, max_pages));
  if (config_.quant.kv_cache_int8) {
    std::vector<float> scales;
    for (const auto& l : weights().layers) scales.push_back(l.attn.ckv_scale);
    cache.set_latent_scales(std::move(scales));
  }
  return cache;
}

void DeepseekModel::check_batch(std::span<const BatchEntry> batch) const {
  if (batch.empty()) throw Error("forward: empty batch");
  for (size_t b = 0; b < batch.size(); ++b) {
    if (batch[b].tokens.empty()) throw Error("request " + std::to_string(b) + ": empty prompt (no token ids)");
    for (int32_t id : batch[b].tokens)
      if (id < 0 || id >= config_.vocab_size)
        throw Error("request " + std::to_string(b) + ": token id " + std::to_string(id) +
                    " out of vocabulary (vocab_size " + std::to_string(config_.vocab_size) + ")");
  }
}

std::vector<float> DeepseekModel::forward(std::span<const BatchEntry> batch, PagedLatentCache& cache,
                                          const ForwardOptions& options) const {
  check_batch(batch);
  const CacheGeometry& g = cache.geometry();
  if (g.n_layers != config_.num_hidden_layers || g.latent_dim != config_.kv_lora_rank ||
      g.rope_dim != config_.qk_rope_head_dim || g.latent_int8 != config_.quant.kv_cache_int8)
    throw Error("forward: KV cache geometry does not match model " + config_.path);
  const ModelWeights& w = weights();
  const int64_t H = config_.hidden_size;

  BatchLayout layout;
  bool pure_decode = true;
  for (const auto& e : batch) {
    const int64_t n = static_cast<int64_t>(e.tokens.size());
    layout.row_begin.push_back(layout.total_tokens);
    layout.n_tokens.push_back(n);
    layout.start_pos.push_back(cache.length(e.seq));
    layout.total_tokens += n;
    pure_decode = pure_decode && n == 1;
  }
  // Reserve cache space for every sequence before touching any of them, so
  // a full pool fails the step without leaving a sequence half-extended.
  for (size_t b = 0; b < batch.size(); ++b) cache.extend(batch[b].seq, layout.start_pos[b] + layout.n_tokens[b]);

  AttentionPath path = options.attention;
  if (path == AttentionPath::Auto) path = pure_decode ? AttentionPath::Absorbed : AttentionPath::Expanded;

  const int64_t T = layout.total_tokens;
  std::vector<float> x(static_cast<size_t>(T * H)), h(x.size()), y(x.size());
  {
    int64_t t = 0;
    for (const auto& e : batch)
      for (int32_t id : e.tokens) w.embed_tokens.dequant_row(id, x.data() + (t++) * H);
  }
  MlaWorkspace attention_workspace;  // shared by all layers of this forward
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i) {
    const LayerWeights& L = w.layers[i];
    cpu::rms_norm(x.data(), L.input_layernorm.data(), T, H, config_.rms_norm_eps, h.data());
    attention_.forward(L.attn, i, h.data(), batch, layout, cache, path, y.data(), &attention_workspace);
    for (int64_t k = 0; k < T * H; ++k) x[k] += y[k];
    cpu::rms_norm(x.data(), L.post_attention_layernorm.data(), T, H, config_.rms_norm_eps, h.data());
    if (L.moe) moe_forward(config_, *L.moe, h.data(), T, y.data(), options);
    else gated_mlp_forward(*L.dense_mlp, h.data(), T, y.data());
    for (int64_t k = 0; k < T * H; ++k) x[k] += y[k];
  }

  // Only the rows whose logits are wanted go through the final norm and lm_head.
  std::vector<int64_t> rows;
  for (size_t b = 0; b < batch.size(); ++b) {
    const int64_t first = batch[b].all_logits ? 0 : layout.n_tokens[b] - 1;
    for (int64_t j = first; j < layout.n_tokens[b]; ++j) rows.push_back(layout.row_begin[b] + j);
  }
  const int64_t R = static_cast<int64_t>(rows.size());
  std::vector<float> hr(static_cast<size_t>(R * H));
  for (int64_t r = 0; r < R; ++r)
    cpu::rms_norm(x.data() + rows[r] * H, w.final_norm.data(), 1, H, config_.rms_norm_eps, hr.data() + r * H);
  std::vector<float> logits(static_cast<size_t>(R * config_.vocab_size));
  cpu::linear(w.lm_head, hr.data(), R, logits.data());
  return logits;
}

}  // namespace dsinfer
