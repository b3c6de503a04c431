#include "model/synthetic_checkpoint.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "io/error.h"
#include "io/model_config.h"
#include "io/safetensors_writer.h"
#include "io/numeric_formats.h"

namespace dsinfer {
namespace {

// splitmix64: tiny, portable, reproducible across standard libraries.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return static_cast<float>(next() >> 40) / static_cast<float>(1ull << 24); }  // [0, 1)
  float symmetric() { return 2.f * uniform() - 1.f; }                                            // [-1, 1)
};

enum class Kind { Fp8Linear, Bf16Matrix, Norm, Bias };

struct Planned {
  std::string name;
  Kind kind;
  int64_t rows, cols;
};

std::vector<Planned> plan_tensors(const ModelConfig& c, bool include_mtp) {
  std::vector<Planned> p;
  const int64_t H = c.hidden_size, heads = c.num_attention_heads;
  auto lin = [&](const std::string& n, int64_t r, int64_t k) { p.push_back({n, Kind::Fp8Linear, r, k}); };
  auto mlp = [&](const std::string& pre, int64_t inter) {
    lin(pre + ".gate_proj", inter, H);
    lin(pre + ".up_proj", inter, H);
    lin(pre + ".down_proj", H, inter);
  };
  p.push_back({"model.embed_tokens.weight", Kind::Bf16Matrix, c.vocab_size, H});
  const int64_t n_layers = c.num_hidden_layers + (include_mtp ? c.num_nextn_predict_layers : 0);
  for (int64_t i = 0; i < n_layers; ++i) {
    const std::string l = "model.layers." + std::to_string(i);
    p.push_back({l + ".input_layernorm.weight", Kind::Norm, H, 1});
    p.push_back({l + ".post_attention_layernorm.weight", Kind::Norm, H, 1});
    const std::string a = l + ".self_attn";
    if (c.q_lora_rank) {
      lin(a + ".q_a_proj", *c.q_lora_rank, H);
      p.push_back({a + ".q_a_layernorm.weight", Kind::Norm, *c.q_lora_rank, 1});
      lin(a + ".q_b_proj", heads * c.qk_head_dim(), *c.q_lora_rank);
    } else {
      lin(a + ".q_proj", heads * c.qk_head_dim(), H);
    }
    lin(a + ".kv_a_proj_with_mqa", c.kv_lora_rank + c.qk_rope_head_dim, H);
    p.push_back({a + ".kv_a_layernorm.weight", Kind::Norm, c.kv_lora_rank, 1});
    lin(a + ".kv_b_proj", heads * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank);
    lin(a + ".o_proj", H, heads * c.v_head_dim);
    if (c.is_moe_layer(i)) {
      p.push_back({l + ".mlp.gate.weight", Kind::Bf16Matrix, c.n_routed_experts, H});
      if (c.topk_method == TopkMethod::NoauxTc) p.push_back({l + ".mlp.gate.e_score_correction_bias", Kind::Bias, c.n_routed_experts, 1});
      for (int64_t e = 0; e < c.n_routed_experts; ++e) mlp(l + ".mlp.experts." + std::to_string(e), c.moe_intermediate_size);
      if (c.n_shared_experts > 0) mlp(l + ".mlp.shared_experts", c.moe_intermediate_size * c.n_shared_experts);
    } else {
      mlp(l + ".mlp", c.intermediate_size);
    }
    if (i >= c.num_hidden_layers) {  // MTP extras, as in the release layout
      p.push_back({l + ".enorm.weight", Kind::Norm, H, 1});
      p.push_back({l + ".hnorm.weight", Kind::Norm, H, 1});
      p.push_back({l + ".eh_proj.weight", Kind::Bf16Matrix, H, 2 * H});
      p.push_back({l + ".shared_head.norm.weight", Kind::Norm, H, 1});
      p.push_back({l + ".shared_head.head.weight", Kind::Bf16Matrix, c.vocab_size, H});
    }
  }
  p.push_back({"model.norm.weight", Kind::Norm, c.hidden_size, 1});
  p.push_back({"lm_head.weight", Kind::Bf16Matrix, c.vocab_size, H});
  return p;
}

std::vector<TensorSpec> specs_of(const Planned& t, const ModelConfig& c) {
  switch (t.kind) {
    case Kind::Fp8Linear: {
      const int64_t sr = (t.rows + c.quant.block_rows - 1) / c.quant.block_rows;
      const int64_t sc = (t.cols + c.quant.block_cols - 1) / c.quant.block_cols;
      return {{t.name + ".weight", DType::F8_E4M3, {t.rows, t.cols}},
              {t.name + ".weight_scale_inv", DType::F32, {sr, sc}}};
    }
    case Kind::Bf16Matrix:
      return {{t.name, DType::BF16, {t.rows, t.cols}}};
    case Kind::Norm:
      return {{t.name, DType::BF16, {t.rows}}};
    case Kind::Bias:
      return {{t.name, DType::F32, {t.rows}}};
  }
  return {};
}

// Writes the bytes of planned tensor `t` (one or two safetensors entries).
void emit(const Planned& t, const ModelConfig& c, Rng& rng, SafetensorsWriter& w) {
  const float amp = std::sqrt(3.0f / static_cast<float>(t.cols));  // unit-variance outputs
  switch (t.kind) {
    case Kind::Fp8Linear: {
      const int64_t br = c.quant.block_rows, bc = c.quant.block_cols;
      const int64_t sr = (t.rows + br - 1) / br, sc = (t.cols + bc - 1) / bc;
      std::vector<float> scales(static_cast<size_t>(sr * sc));
      for (auto& s : scales) s = amp * (0.5f + rng.uniform()) / 448.f;  // per-block scale varies
      std::vector<uint8_t> q(static_cast<size_t>(t.rows * t.cols));
      for (int64_t r = 0; r < t.rows; ++r)
        for (int64_t k = 0; k < t.cols; ++k) q[r * t.cols + k] = float_to_fp8_e4m3(448.f * rng.symmetric());
      w.write_next(q.data(), q.size());
      w.write_next(scales.data(), scales.size() * 4);
      break;
    }
    case Kind::Bf16Matrix: {
      std::vector<uint16_t> v(static_cast<size_t>(t.rows * t.cols));
      for (auto& x : v) x = float_to_bf16(amp * rng.symmetric());
      w.write_next(v.data(), v.size() * 2);
      break;
    }
    case Kind::Norm: {
      std::vector<uint16_t> v(static_cast<size_t>(t.rows));
      for (auto& x : v) x = float_to_bf16(1.0f + 0.2f * rng.symmetric());
      w.write_next(v.data(), v.size() * 2);
      break;
    }
    case Kind::Bias: {
      std::vector<float> v(static_cast<size_t>(t.rows));
      for (auto& x : v) x = 0.05f * rng.symmetric();
      w.write_next(v.data(), v.size() * 4);
      break;
    }
  }
}

nlohmann::json with_fp8_quantization(nlohmann::json config) {
  config["quantization_config"] = {{"activation_scheme", "dynamic"},
                                   {"fmt", "e4m3"},
                                   {"quant_method", "fp8"},
                                   {"weight_block_size", {128, 128}}};
  return config;
}

}  // namespace

uint64_t synthetic_checkpoint_bytes(const nlohmann::json& config, bool include_mtp) {
  const ModelConfig c = parse_model_config(with_fp8_quantization(config).dump(), "config");
  uint64_t total = 0;
  for (const auto& t : plan_tensors(c, include_mtp))
    for (const auto& spec : specs_of(t, c)) total += spec.nbytes();
  return total;
}

void write_synthetic_checkpoint(const std::string& dir, nlohmann::json config, const SyntheticCheckpointOptions& o) {
  namespace fs = std::filesystem;
  config = with_fp8_quantization(std::move(config));
  const std::string cfg_path = (fs::path(dir) / "config.json").string();
  const ModelConfig c = parse_model_config(config.dump(), cfg_path);
  const auto planned = plan_tensors(c, o.include_mtp);
  const int64_t shards = std::max<int64_t>(1, std::min<int64_t>(o.shards, static_cast<int64_t>(planned.size())));

  nlohmann::json weight_map = nlohmann::json::object();
  size_t total = 0;
  Rng rng{o.seed * 0x2545f4914f6cdd1dull + 1};
  const size_t per_shard = (planned.size() + shards - 1) / shards;
  for (int64_t s = 0; s < shards; ++s) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05lld-of-%05lld.safetensors", static_cast<long long>(s + 1),
                  static_cast<long long>(shards));
    const size_t begin = s * per_shard, end = std::min(planned.size(), begin + per_shard);
    std::vector<TensorSpec> specs;
    for (size_t i = begin; i < end; ++i)
      for (auto& spec : specs_of(planned[i], c)) {
        weight_map[spec.name] = name;
        total += spec.nbytes();
        specs.push_back(std::move(spec));
      }
    SafetensorsWriter w((fs::path(dir) / name).string(), specs, {{"format", "pt"}});
    for (size_t i = begin; i < end; ++i) emit(planned[i], c, rng, w);
    w.finish();
  }
  nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  std::ofstream(fs::path(dir) / "model.safetensors.index.json") << index.dump(2) << "\n";
  std::ofstream cfg(cfg_path);
  cfg << config.dump(2) << "\n";
  if (!cfg) throw Error(cfg_path + ": write failed");
}

}  // namespace dsinfer
