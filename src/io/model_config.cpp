#include "io/model_config.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/error.h"
#include "io/strict_json.h"
#include "io/text_file.h"

namespace dsinfer {
using nlohmann::json;

namespace {

struct Reader {
  const json& j;
  const std::string& src;

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw Error(src + ": field '" + field + "' " + why);
  }
  // Dimensions past these are no model anyone runs: refused before any size is computed from them.
  static constexpr int64_t kMaxDim = int64_t{1} << 24;
  int64_t req_int(const char* f, int64_t min_value = 1, int64_t max_value = kMaxDim) const {
    if (!j.contains(f)) fail(f, "is missing");
    if (!j[f].is_number_integer()) fail(f, "must be an integer, got " + json_excerpt(j[f]));
    if (j[f].is_number_unsigned() && j[f].get<uint64_t>() > static_cast<uint64_t>(max_value))
      fail(f, "must be <= " + std::to_string(max_value) + ", got " + json_excerpt(j[f]));
    int64_t v = j[f].get<int64_t>();
    if (v < min_value) fail(f, "must be >= " + std::to_string(min_value) + ", got " + std::to_string(v));
    if (v > max_value) fail(f, "must be <= " + std::to_string(max_value) + ", got " + std::to_string(v));
    return v;
  }
  int64_t opt_int(const char* f, int64_t def, int64_t min_value = 0, int64_t max_value = kMaxDim) const {
    if (!j.contains(f) || j[f].is_null()) return def;
    return req_int(f, min_value, max_value);
  }
  // A number the model's arithmetic divides by, takes logs or powers of:
  // finite and inside (lo, hi] (lo itself allowed when lo_closed).
  double opt_range(const json& obj, const char* f, double def, double lo, double hi, bool lo_closed = false) const {
    const double v = opt_num(obj, f, def);
    if (!std::isfinite(v) || v < lo || (v == lo && !lo_closed) || v > hi)
      fail(f, "must be a finite number in " + std::string(lo_closed ? "[" : "(") + fmt(lo) + ", " + fmt(hi) +
                  "], got " + fmt(v));
    return v;
  }
  static std::string fmt(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
  }
  double opt_num(const json& obj, const char* f, double def) const {
    if (!obj.contains(f) || obj[f].is_null()) return def;
    if (!obj[f].is_number()) fail(f, "must be a number, got " + json_excerpt(obj[f]));
    return obj[f].get<double>();
  }
  bool opt_bool(const char* f, bool def) const {
    if (!j.contains(f) || j[f].is_null()) return def;
    if (!j[f].is_boolean()) fail(f, "must be a boolean");
    return j[f].get<bool>();
  }
  std::string opt_str(const char* f, const std::string& def) const {
    if (!j.contains(f) || j[f].is_null()) return def;
    if (!j[f].is_string()) fail(f, "must be a string");
    return j[f].get<std::string>();
  }
};

QuantConfig parse_quant(const json& q, const Reader& r) {
  QuantConfig out;
  if (q.is_null()) return out;
  if (!q.is_object()) r.fail("quantization_config", "must be an object");
  std::string method = q.value("quant_method", "");
  if (method == "fp8") {
    out.weights = WeightQuant::Fp8Block;
    if (q.value("fmt", "e4m3") != "e4m3") r.fail("quantization_config.fmt", "must be e4m3");
    if (q.contains("weight_block_size")) {
      const auto& b = q["weight_block_size"];
      if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_integer() ||
          b[0].get<int64_t>() <= 0 || b[1].get<int64_t>() <= 0)
        r.fail("quantization_config.weight_block_size", "must be two positive integers");
      out.block_rows = b[0].get<int64_t>();
      out.block_cols = b[1].get<int64_t>();
    }
  } else if (method == "compressed-tensors") {
    out.weights = WeightQuant::Int8Channel;
    if (q.contains("ignore") && q["ignore"].is_array())
      for (const auto& s : q["ignore"])
        if (s.is_string()) out.ignore.push_back(s.get<std::string>());
    if (q.contains("kv_cache_scheme") && q["kv_cache_scheme"].is_object()) out.kv_cache_int8 = true;
  } else {
    r.fail("quantization_config.quant_method", "unsupported: '" + method + "' (expected fp8 or compressed-tensors)");
  }
  return out;
}

ModelConfig parse_model_config_json(const json& j, const std::string& source);

}  // namespace

ModelConfig parse_model_config(const std::string& json_text, const std::string& source) {
  const json j = parse_json_strict(json_text, source);
  try {
    return parse_model_config_json(j, source);
  } catch (const json::exception& e) {  // a field of the wrong JSON type deep inside
    throw Error(source + ": " + e.what());
  }
}

namespace {

ModelConfig parse_model_config_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": not a JSON object");
  Reader r{j, source};
  ModelConfig c;
  c.path = source;
  c.model_type = r.opt_str("model_type", "");
  if (c.model_type != "deepseek_v3" && c.model_type != "kimi_k2" && c.model_type != "deepseek_v2")
    r.fail("model_type", "unknown model_type '" + c.model_type + "' (supported: deepseek_v3, kimi_k2, deepseek_v2)");
  c.vocab_size = r.req_int("vocab_size");
  c.hidden_size = r.req_int("hidden_size");
  c.intermediate_size = r.req_int("intermediate_size");
  c.num_hidden_layers = r.req_int("num_hidden_layers");
  c.num_attention_heads = r.req_int("num_attention_heads");
  c.kv_lora_rank = r.req_int("kv_lora_rank");
  c.qk_nope_head_dim = r.req_int("qk_nope_head_dim");
  c.qk_rope_head_dim = r.req_int("qk_rope_head_dim");
  if (c.qk_rope_head_dim % 2 != 0) r.fail("qk_rope_head_dim", "must be even");
  c.v_head_dim = r.req_int("v_head_dim");
  if (j.contains("q_lora_rank") && !j["q_lora_rank"].is_null()) c.q_lora_rank = r.req_int("q_lora_rank");
  c.n_routed_experts = r.opt_int("n_routed_experts", 0);
  c.first_k_dense_replace = r.opt_int("first_k_dense_replace", 0);
  c.moe_layer_freq = r.opt_int("moe_layer_freq", 1, 1);
  c.num_nextn_predict_layers = r.opt_int("num_nextn_predict_layers", 0);
  if (c.n_routed_experts > 0) {
    c.moe_intermediate_size = r.req_int("moe_intermediate_size");
    c.num_experts_per_tok = r.req_int("num_experts_per_tok");
    c.n_group = r.opt_int("n_group", 1, 1);
    c.topk_group = r.opt_int("topk_group", 1, 1);
    c.n_shared_experts = r.opt_int("n_shared_experts", 0);
    if (c.n_routed_experts % c.n_group != 0) r.fail("n_group", "must divide n_routed_experts");
    if (c.topk_group > c.n_group) r.fail("topk_group", "must be <= n_group");
    if (c.num_experts_per_tok > c.topk_group * (c.n_routed_experts / c.n_group))
      r.fail("num_experts_per_tok", "exceeds the experts in topk_group groups");
  }
  c.routed_scaling_factor = r.opt_range(j, "routed_scaling_factor", 1.0, 0.0, 1e4);
  c.norm_topk_prob = r.opt_bool("norm_topk_prob", true);
  const std::string scoring = r.opt_str("scoring_func", "sigmoid");
  if (scoring == "sigmoid") c.scoring_func = ScoringFunc::Sigmoid;
  else if (scoring == "softmax") c.scoring_func = ScoringFunc::Softmax;
  else r.fail("scoring_func", "unsupported '" + scoring + "' (sigmoid or softmax)");
  const std::string method = r.opt_str("topk_method", "noaux_tc");
  if (method == "noaux_tc") c.topk_method = TopkMethod::NoauxTc;
  else if (method == "group_limited_greedy") c.topk_method = TopkMethod::GroupLimitedGreedy;
  else if (method == "greedy") c.topk_method = TopkMethod::Greedy;
  else r.fail("topk_method", "unsupported '" + method + "'");
  c.rms_norm_eps = r.opt_range(j, "rms_norm_eps", 1e-6, 0.0, 1.0);
  c.rope_theta = r.opt_range(j, "rope_theta", 10000.0, 1.0, 1e12);
  c.max_position_embeddings = r.opt_int("max_position_embeddings", 4096, 1, int64_t{1} << 31);
  c.tie_word_embeddings = r.opt_bool("tie_word_embeddings", false);
  c.bos_token_id = r.opt_int("bos_token_id", -1, -1);
  if (j.contains("eos_token_id")) {
    const auto& e = j["eos_token_id"];
    if (e.is_number_integer()) c.eos_token_ids.push_back(e.get<int64_t>());
    else if (e.is_array())
      for (const auto& x : e) {
        if (!x.is_number_integer()) r.fail("eos_token_id", "must be an integer or list of integers");
        c.eos_token_ids.push_back(x.get<int64_t>());
      }
    else if (!e.is_null()) r.fail("eos_token_id", "must be an integer or list of integers");
  }
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    const json& rs = j["rope_scaling"];
    if (!rs.is_object()) r.fail("rope_scaling", "must be an object");
    std::string type = rs.value("type", rs.value("rope_type", std::string()));
    if (type != "yarn") r.fail("rope_scaling.type", "unsupported '" + type + "' (only yarn)");
    RopeScaling& s = c.rope_scaling;
    s.type = type;
    s.factor = r.opt_range(rs, "factor", 1.0, 1.0, 1e6, true);
    s.beta_fast = r.opt_range(rs, "beta_fast", 32.0, 0.0, 1e6);
    s.beta_slow = r.opt_range(rs, "beta_slow", 1.0, 0.0, 1e6);
    if (s.beta_slow > s.beta_fast) r.fail("rope_scaling.beta_slow", "must not exceed beta_fast");
    s.mscale = r.opt_range(rs, "mscale", 1.0, 0.0, 100.0);
    s.mscale_all_dim = r.opt_range(rs, "mscale_all_dim", 0.0, 0.0, 100.0, true);
    const double original = r.opt_range(rs, "original_max_position_embeddings", 4096, 1.0,
                                        static_cast<double>(c.max_position_embeddings), true);
    if (original != std::floor(original)) r.fail("rope_scaling.original_max_position_embeddings", "must be an integer");
    s.original_max_position_embeddings = static_cast<int64_t>(original);
  }
  if (j.contains("quantization_config")) c.quant = parse_quant(j["quantization_config"], r);
  return c;
}

}  // namespace

ModelConfig load_model_config(const std::string& model_dir) {
  auto path = (std::filesystem::path(model_dir) / "config.json").string();
  if (!std::filesystem::exists(path)) throw Error(path + ": cannot open (is this a model directory?)");
  return parse_model_config(read_text_file(path), path);
}

}  // namespace dsinfer
