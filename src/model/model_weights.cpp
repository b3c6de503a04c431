#include "model/model_weights.h"

#include <algorithm>
#include <cstdlib>
#include <unordered_set>

#include "io/checkpoint_schema.h"
#include "io/error.h"
#include "io/numeric_formats.h"
#include "model/bind_weights.h"

namespace dsinfer {
namespace {

class WeightBinder {
 public:
  // The config.json field that makes `name` part of the model.
  std::string implied_by(const std::string& name) const {
    int64_t layer = -1;
    if (name.rfind("model.layers.", 0) == 0) layer = std::atoll(name.c_str() + 13);
    if (layer >= cfg_.num_hidden_layers)
      return "num_nextn_predict_layers " + std::to_string(cfg_.num_nextn_predict_layers);
    if (name.find(".mlp.experts.") != std::string::npos)
      return "n_routed_experts " + std::to_string(cfg_.n_routed_experts);
    if (name.find(".mlp.shared_experts.") != std::string::npos)
      return "n_shared_experts " + std::to_string(cfg_.n_shared_experts);
    if (name.find(".mlp.") != std::string::npos)
      return "first_k_dense_replace " + std::to_string(cfg_.first_k_dense_replace);
    if (name.find("q_a_") != std::string::npos) return "q_lora_rank";
    if (layer >= 0) return "num_hidden_layers " + std::to_string(cfg_.num_hidden_layers);
    return "every model of this model_type";
  }

  WeightBinder(const Checkpoint& ckpt, const ModelConfig& cfg) : ckpt_(ckpt), cfg_(cfg) {}

  const TensorView& tensor(const std::string& name, const std::vector<int64_t>& shape) {
    if (!ckpt_.has(name))
      throw Error(cfg_.path + ": missing tensor '" + name + "' (implied by " + implied_by(name) +
                  "; no shard of the checkpoint holds it)");
    const TensorView& t = ckpt_.get(name);
    if (t.shape != shape)
      throw Error(t.file + ": tensor '" + name + "' has shape " + shape_string(t.shape) + ", config " + cfg_.path +
                  " implies " + shape_string(shape) + implied_dims(shape));
    return t;
  }

  // " ([7168] = hidden_size, ...)": the config fields the implied dims come
  // from, so a wrong field (or a checkpoint of another model) is named.
  std::string implied_dims(const std::vector<int64_t>& shape) const {
    const std::pair<const char*, int64_t> fields[] = {
        {"hidden_size", cfg_.hidden_size},
        {"intermediate_size", cfg_.intermediate_size},
        {"moe_intermediate_size", cfg_.moe_intermediate_size},
        {"vocab_size", cfg_.vocab_size},
        {"q_lora_rank", cfg_.q_lora_rank.value_or(-1)},
        {"kv_lora_rank", cfg_.kv_lora_rank},
        {"kv_lora_rank + qk_rope_head_dim", cfg_.kv_lora_rank + cfg_.qk_rope_head_dim},
        {"num_attention_heads x (qk_nope_head_dim + qk_rope_head_dim)", cfg_.num_attention_heads * cfg_.qk_head_dim()},
        {"num_attention_heads x (qk_nope_head_dim + v_head_dim)",
         cfg_.num_attention_heads * (cfg_.qk_nope_head_dim + cfg_.v_head_dim)},
        {"num_attention_heads x v_head_dim", cfg_.num_attention_heads * cfg_.v_head_dim},
        {"n_routed_experts", cfg_.n_routed_experts},
        {"2 x hidden_size", 2 * cfg_.hidden_size}};
    std::string out;
    for (int64_t d : shape)
      for (const auto& [field, v] : fields)
        if (v == d) {
          out += (out.empty() ? " (" : ", ") + std::to_string(d) + " = " + field;
          break;
        }
    return out.empty() ? out : out + ")";
  }

  // A Linear weight [rows, cols] in any supported stored format.
  LinearWeight linear(const LinearSpec& spec) {
    const int64_t rows = spec.rows, cols = spec.cols;
    const std::string name = spec.weight_name();
    const TensorView& t = tensor(name, {rows, cols});
    LinearWeight w;
    w.name = name;
    w.rows = rows;
    w.cols = cols;
    w.data = t.data;
    switch (t.dtype) {
      case DType::F8_E4M3: {
        w.format = WeightFormat::Fp8Block;
        w.block_rows = cfg_.quant.block_rows;
        w.block_cols = cfg_.quant.block_cols;
        const int64_t sr = (rows + w.block_rows - 1) / w.block_rows, sc = (cols + w.block_cols - 1) / w.block_cols;
        const std::string sname = spec.scale_inv_name();
        if (!ckpt_.has(sname)) throw Error(t.file + ": FP8 tensor '" + name + "' has no scale tensor '" + sname + "'");
        const TensorView& s = tensor(sname, {sr, sc});
        if (s.dtype != DType::F32) throw Error(s.file + ": tensor '" + sname + "' must be F32");
        w.scale = reinterpret_cast<const float*>(s.data);
        bytes_ += s.nbytes;
        break;
      }
      case DType::I8: {
        w.format = WeightFormat::Int8Channel;
        const std::string sname = spec.prefix + ".weight_scale";  // the W8A8 (converted) layout
        if (!ckpt_.has(sname)) throw Error(t.file + ": int8 tensor '" + name + "' has no scale tensor '" + sname + "'");
        const TensorView& s = ckpt_.get(sname);
        if (s.dtype != DType::F32 || s.numel() != rows)
          throw Error(s.file + ": tensor '" + sname + "' must be F32 with " + std::to_string(rows) + " values, got " +
                      std::string(dtype_name(s.dtype)) + " " + shape_string(s.shape));
        w.scale = reinterpret_cast<const float*>(s.data);
        bytes_ += s.nbytes;
        break;
      }
      case DType::BF16:
        w.format = WeightFormat::BF16;
        break;
      case DType::F32:
        w.format = WeightFormat::F32;
        break;
      default:
        throw Error(t.file + ": tensor '" + name + "' has unsupported dtype " + std::string(dtype_name(t.dtype)) +
                    " for a Linear weight (expected F8_E4M3, I8, BF16 or F32)");
    }
    bytes_ += t.nbytes;
    return w;
  }

  // A small 1-D vector (norm weight, router bias), widened to float32.
  std::vector<float> vector(const std::string& name, int64_t n) {
    const TensorView& t = tensor(name, {n});
    std::vector<float> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      switch (t.dtype) {
        case DType::F32:
          out[i] = t.as<float>()[i];
          break;
        case DType::BF16:
          out[i] = bf16_to_float(t.as<uint16_t>()[i]);
          break;
        case DType::F16:
          out[i] = f16_to_float(t.as<uint16_t>()[i]);
          break;
        default:
          throw Error(t.file + ": tensor '" + name + "' has unsupported dtype " + std::string(dtype_name(t.dtype)) +
                      " (expected F32, BF16 or F16)");
      }
    }
    bytes_ += t.nbytes;
    return out;
  }

  size_t bytes() const { return bytes_; }

 private:
  const Checkpoint& ckpt_;
  const ModelConfig& cfg_;
  size_t bytes_ = 0;
};

}  // namespace

LoadedCheckpoint::LoadedCheckpoint(const std::string& model_dir, const ModelConfig& c)
    : checkpoint_(std::make_unique<Checkpoint>(model_dir)) {
  WeightBinder b(*checkpoint_, c);
  // The MTP layer is loaded when the checkpoint has it (converted
  // checkpoints made without it still run, without speculative decoding);
  // mapped, so its pages are read only when drafts are made.
  const bool has_mtp = c.num_nextn_predict_layers > 0 &&
                       checkpoint_->has("model.layers." + std::to_string(c.num_hidden_layers) + ".eh_proj.weight");
  CheckpointSchema schema = checkpoint_schema(c, {.include_mtp = has_mtp});
  if (c.tie_word_embeddings && !checkpoint_->has(schema.lm_head->weight_name())) schema.lm_head.reset();
  WeightSource source;
  source.linear = [&](const LinearSpec& s) { return b.linear(s); };
  source.vector = [&](const VectorSpec& s) {
    std::vector<float> v = b.vector(s.name, s.n);
    if (s.role == VectorRole::CkvScale && !(v[0] > 0.f))
      throw Error(model_dir + ": tensor '" + s.name + "' must be positive");
    return v;
  };
  weights_ = bind_weights(schema, source);
  weights_.bytes = b.bytes();
}

namespace {

template <class Layers, class Fn>
void for_each_compute_linear(Layers& layers, Fn&& fn) {
  auto mlp = [&](auto& m) {
    fn(m.gate);
    fn(m.up);
    fn(m.down);
  };
  for (auto& L : layers) {
    auto& a = L.attn;
    if (a.q_a_proj) fn(*a.q_a_proj);
    fn(a.q_b_proj);
    fn(a.kv_a_proj_with_mqa);
    fn(a.kv_b_proj);
    fn(a.o_proj);
    if (L.dense_mlp) mlp(*L.dense_mlp);
    if (L.moe) {
      for (auto& e : L.moe->experts)
        if (e.gate.data) mlp(e);  // experts filtered out of the schema hold no weights
      if (L.moe->shared) mlp(*L.moe->shared);
    }
  }
}

}  // namespace

void apply_compute_precision(std::span<LayerWeights> layers, LinearWeight& lm_head, ComputePrecision p) {
  const bool on = p == ComputePrecision::BF16;
  auto mark = [&](LinearWeight& w) { w.bf16_inputs = on && w.format == WeightFormat::BF16; };
  for_each_compute_linear(layers, mark);
  mark(lm_head);
  // kv_b_proj decompresses the shared latent into every head's keys and
  // values: its rounding error reaches all attention logits, while it is
  // ~3% of a layer's prefill FLOPs. It stays exact.
  for (auto& L : layers) L.attn.kv_b_proj.bf16_inputs = false;
}

void pack_linears(std::span<LayerWeights> layers, LinearWeight& lm_head, Ops& ops) {
  // kv_b_proj stays as stored: the absorbed decode reads its rows (W_UK,
  // W_UV) in place, not through ops.linear.
  // The lm_head first: read at every step whatever the batch, it gets the
  // backend's budget for copies (if any) before the layers.
  ops.pack_weight(lm_head);
  std::unordered_set<const LinearWeight*> in_place;
  for (const auto& L : layers) in_place.insert(&L.attn.kv_b_proj);
  for_each_compute_linear(layers, [&](LinearWeight& w) {
    if (!in_place.contains(&w)) ops.pack_weight(w);
  });
}

ComputePrecision default_compute_precision(const std::vector<LayerWeights>& layers) {
  bool exact = false;
  for_each_compute_linear(layers, [&](const LinearWeight& w) {
    exact = exact || w.format == WeightFormat::Fp8Block || w.format == WeightFormat::F32;
  });
  return exact ? ComputePrecision::Float32 : ComputePrecision::BF16;
}

}  // namespace dsinfer
