#include "io/model_config.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/error.h"

namespace dsinfer {
using nlohmann::json;

namespace {

struct Reader {
  const json& j;
  const std::string& src;

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw Error(src + ": field '" + field + "' " + why);
  }
  int64_t req_int(const char* f, int64_t min_value = 1) const {
    if (!j.contains(f)) fail(f, "is missing");
    if (!j[f].is_number_integer()) fail(f, "must be an integer, got " + j[f].dump());
    int64_t v = j[f].get<int64_t>();
    if (v < min_value) fail(f, "must be >= " + std::to_string(min_value) + ", got " + std::to_string(v));
    return v;
  }
  int64_t opt_int(const char* f, int64_t def, int64_t min_value = 0) const {
    if (!j.contains(f) || j[f].is_null()) return def;
    return req_int(f, min_value);
  }
  double opt_num(const json& obj, const char* f, double def) const {
    if (!obj.contains(f) || obj[f].is_null()) return def;
    if (!obj[f].is_number()) fail(f, "must be a number, got " + obj[f].dump());
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

}  // namespace

ModelConfig parse_model_config(const std::string& json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw Error(source + ": malformed JSON: " + e.what());
  }
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
  c.routed_scaling_factor = r.opt_num(j, "routed_scaling_factor", 1.0);
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
  c.rms_norm_eps = r.opt_num(j, "rms_norm_eps", 1e-6);
  c.rope_theta = r.opt_num(j, "rope_theta", 10000.0);
  c.max_position_embeddings = r.opt_int("max_position_embeddings", 4096);
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
    s.factor = r.opt_num(rs, "factor", 1.0);
    s.beta_fast = r.opt_num(rs, "beta_fast", 32.0);
    s.beta_slow = r.opt_num(rs, "beta_slow", 1.0);
    s.mscale = r.opt_num(rs, "mscale", 1.0);
    s.mscale_all_dim = r.opt_num(rs, "mscale_all_dim", 0.0);
    s.original_max_position_embeddings =
        static_cast<int64_t>(r.opt_num(rs, "original_max_position_embeddings", 4096));
  }
  if (j.contains("quantization_config")) c.quant = parse_quant(j["quantization_config"], r);
  return c;
}

ModelConfig load_model_config(const std::string& model_dir) {
  auto path = (std::filesystem::path(model_dir) / "config.json").string();
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open (is this a model directory?)");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_model_config(ss.str(), path);
}

}  // namespace dsinfer
