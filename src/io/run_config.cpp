#include "io/run_config.h"

#include <algorithm>
#include <cctype>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "io/error.h"
#include "io/text_file.h"
#include "io/utf8.h"

namespace dsinfer {
namespace {

// Keys that tune Ascend-specific machinery; accepted, reported, ignored.
const std::set<std::string> kNpuOnly = {"enable_weight_nz", "enable_superkernel", "enable_cache_compile",
                                        "enable_multi_streams", "enable_mla_prolog", "enable_profiler", "mm_quant_mode",
                                        "gmm_quant_mode", "micro_batch_mode", "enable_o_proj_alltoall"};

class YamlReader {
 public:
  YamlReader(const std::string& source, RunConfig& cfg) : source_(source), cfg_(cfg) {}

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw Error(source_ + ": " + key + ": " + why);
  }

  // Binds every key of `node` (a mapping, or absent) to a handler; others warn.
  void section(const YAML::Node& node, const std::string& prefix,
               const std::map<std::string, std::function<void(const YAML::Node&, const std::string&)>>& keys) {
    if (!node || node.IsNull()) return;  // absent or empty section: defaults
    if (!node.IsMap()) fail(prefix.empty() ? "<document>" : prefix, "must be a mapping");
    std::set<std::string> seen;
    for (const auto& kv : node) {
      const std::string where = prefix.empty() ? "<document>" : prefix;
      if (!kv.first.IsScalar()) fail(where, "has a key that is not a plain name (a list or mapping as key)");
      const std::string key = kv.first.as<std::string>();
      if (utf8::find_invalid(key) != std::string_view::npos) fail(where, "has a key that is not valid UTF-8");
      const std::string path = prefix.empty() ? key : prefix + "." + key;
      if (!seen.insert(key).second) fail(path, "given twice (a YAML mapping holds each key once)");
      auto it = keys.find(key);
      if (it == keys.end()) {
        cfg_.warnings.push_back("unknown key '" + path + "' ignored");
        continue;
      }
      if (kNpuOnly.count(key)) cfg_.not_applicable.push_back(path);
      it->second(kv.second, path);
    }
  }

  auto integer(int64_t& out) {
    return [this, &out](const YAML::Node& n, const std::string& path) {
      try {
        out = n.as<int64_t>();
      } catch (const YAML::Exception&) {
        fail(path, "must be an integer, got '" + n.as<std::string>("?") + "'");
      }
    };
  }
  auto boolean(bool& out) {
    return [this, &out](const YAML::Node& n, const std::string& path) {
      try {
        out = n.as<bool>();
      } catch (const YAML::Exception&) {
        fail(path, "must be True or False, got '" + n.as<std::string>("?") + "'");
      }
    };
  }
  auto text(std::string& out) {
    return [this, &out](const YAML::Node& n, const std::string& path) {
      if (!n.IsScalar()) fail(path, "must be a string");
      out = n.as<std::string>();
      if (utf8::find_invalid(out) != std::string_view::npos) fail(path, "is not valid UTF-8");
    };
  }

 private:
  std::string source_;
  RunConfig& cfg_;
};

void require(bool ok, const std::string& source, const std::string& key, const std::string& why) {
  if (!ok) throw Error(source + ": " + key + ": " + why);
}

void validate(RunConfig& c) {
  const std::string& s = c.source;
  const std::set<std::string> models = {"deepseek_r1", "deepseek_v3", "kimi_k2", "deepseek_v2_lite"};
  require(models.count(c.model_name) > 0, s, "model_name",
          "'" + c.model_name + "' is not one of deepseek_r1, deepseek_v3, kimi_k2, deepseek_v2_lite");
  require(!c.model_path.empty(), s, "model_path", "is required");
  require(c.exe_mode == "ge_graph" || c.exe_mode == "acl_graph" || c.exe_mode == "eager", s, "exe_mode",
          "'" + c.exe_mode + "' is not one of ge_graph, acl_graph, eager");
  require(c.world_size >= 1, s, "world_size", "must be >= 1");
  const auto& m = c.model;
  require(m.next_n >= 0 && m.next_n <= 3, s, "model_config.next_n", "must be 0, 1, 2 or 3");
  require(m.pa_block_size > 0 && m.pa_block_size <= 65536, s, "model_config.pa_block_size",
          "must be an integer in [1, 65536] (the recipe uses 128 or 256)");
  require(m.moe_chunk_max_len > 0, s, "model_config.moe_chunk_max_len", "must be a positive integer");
  require(m.micro_batch_mode >= 0 && m.micro_batch_mode <= 2, s, "model_config.micro_batch_mode", "must be 0, 1 or 2");
  require(!(m.enable_prefill_multi_cycle && !m.enable_pa), s, "model_config.enable_prefill_multi_cycle",
          "requires model_config.enable_pa: True");
  const bool dynamo = m.enable_cache_compile || m.enable_multi_streams || m.enable_superkernel;
  require(!(c.exe_mode == "eager" && dynamo), s, "exe_mode",
          "eager does not support enable_cache_compile, enable_multi_streams or enable_superkernel");
  require(!(c.exe_mode == "acl_graph" && m.enable_superkernel), s, "model_config.enable_superkernel",
          "is not supported with exe_mode acl_graph");
  if (m.micro_batch_mode != 0) {
    require(m.enable_pa, s, "model_config.micro_batch_mode", "requires model_config.enable_pa: True");
    require(!m.enable_prefill_multi_cycle, s, "model_config.micro_batch_mode",
            "needs more than one sequence per prefill, so enable_prefill_multi_cycle must be False");
    if (m.micro_batch_mode == 1)
      require(c.parallel.moe_tp_size == 1 && c.parallel.attn_tp_size == 1, s, "model_config.micro_batch_mode",
              "1 requires attn_tp_size 1 and moe_tp_size 1 (attention DP, MoE EP)");
  }
  const auto& d = c.data;
  require(d.dataset == "default" || d.dataset == "LongBench", s, "data_config.dataset",
          "'" + d.dataset + "' is not one of default, LongBench");
  require(d.input_max_len > 0, s, "data_config.input_max_len", "must be a positive integer");
  require(d.max_new_tokens >= 1, s, "data_config.max_new_tokens", "must be >= 1");
  require(d.batch_size >= 1, s, "data_config.batch_size", "must be >= 1");
  const auto& p = c.parallel;
  for (auto [name, v] : std::initializer_list<std::pair<const char*, int64_t>>{{"attn_tp_size", p.attn_tp_size},
                                                                                {"dense_tp_size", p.dense_tp_size},
                                                                                {"moe_tp_size", p.moe_tp_size},
                                                                                {"embed_tp_size", p.embed_tp_size},
                                                                                {"lmhead_tp_size", p.lmhead_tp_size}}) {
    require(v >= 1 && c.world_size % v == 0, s, std::string("parallel_config.") + name,
            std::to_string(v) + " does not divide world_size " + std::to_string(c.world_size));
  }
  require(p.moe_ep_size_set == 0 || p.moe_ep_size_set == c.world_size / p.moe_tp_size, s, "parallel_config.moe_ep_size",
          std::to_string(p.moe_ep_size_set) + " is not world_size / moe_tp_size = " +
              std::to_string(c.world_size / std::max<int64_t>(p.moe_tp_size, 1)));
  require(p.embed_tp_size % p.attn_tp_size == 0, s, "parallel_config.embed_tp_size",
          "must be a multiple of attn_tp_size " + std::to_string(p.attn_tp_size));
  require(d.batch_size % p.attn_dp_size() == 0, s, "data_config.batch_size",
          std::to_string(d.batch_size) + " is not divisible by the attention DP size " +
              std::to_string(p.attn_dp_size()) + " (world_size / attn_tp_size)");
}

}  // namespace

int64_t RunConfig::Parallel::attn_dp_size() const { return world / attn_tp_size; }
int64_t RunConfig::Parallel::moe_ep_size() const { return world / moe_tp_size; }

RunConfig parse_run_config(const std::string& yaml_text, const std::string& source) {
  RunConfig c;
  c.source = source;
  // yaml-cpp parses nested flow collections recursively: bound the nesting first.
  int depth = 0, deepest = 0;
  for (char ch : yaml_text) {
    if (ch == '[' || ch == '{') deepest = std::max(deepest, ++depth);
    if ((ch == ']' || ch == '}') && depth > 0) --depth;
  }
  if (deepest > 64) throw Error(source + ": YAML nested " + std::to_string(deepest) + " levels deep (at most 64)");
  // A run config is a block mapping: every line at column 0 is a key (or a
  // comment, a document marker). This also keeps yaml-cpp away from inputs
  // it cannot bound (a top-level scalar followed by ',' allocates forever).
  {
    std::istringstream lines(yaml_text);
    std::string line;
    bool seen_key = false;  // indented lines belong to a key above them
    for (int64_t n = 1; std::getline(lines, line); ++n) {
      const size_t first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '#') continue;
      if (line.rfind("---", 0) == 0 || line.rfind("...", 0) == 0) {
        // A marker alone (or with a comment): content after one ("... ,x")
        // sends yaml-cpp into the same unbounded allocation.
        const size_t rest = line.find_first_not_of(" \t\r", 3);
        if (rest != std::string::npos && (line[rest] != '#' || rest == 3))
          throw Error(source + ": line " + std::to_string(n) + ": a document marker ('---' or '...') must stand "
                      "alone on its line");
        seen_key = false;
        continue;
      }
      // Directives (%YAML, %TAG) have no use in a run config, and yaml-cpp
      // allocates without bound on some (a %TAG inside a document).
      if (line[0] == '%')
        throw Error(source + ": line " + std::to_string(n) + ": YAML directives ('%...') are not accepted in a run "
                    "config");
      if (first > 0) {
        if (!seen_key)
          throw Error(source + ": line " + std::to_string(n) + ": indented before any top-level key; a run config "
                      "is a mapping of keys (model_name: ..., world_size: ...)");
        continue;
      }
      seen_key = true;
      size_t end = 0;
      if (line[0] == '"' || line[0] == '\'') {
        end = line.find(line[0], 1);
        end = end == std::string::npos ? 0 : end + 1;
      } else {
        while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_' ||
                                     line[end] == '-' || line[end] == '.'))
          ++end;
      }
      while (end > 0 && end < line.size() && line[end] == ' ') ++end;
      // 'key:value' (no blank after the colon) is one plain scalar in YAML, not a key.
      const bool key = end > 0 && end < line.size() && line[end] == ':' &&
                       (end + 1 == line.size() || line[end + 1] == ' ' || line[end + 1] == '\t' || line[end + 1] == '\r');
      if (!key)
        throw Error(source + ": line " + std::to_string(n) + ": a run config is a mapping of keys "
                    "(model_name: ..., world_size: ...); this line at the top level is not a 'key:'");
    }
  }
  YAML::Node root;
  try {
    const std::vector<YAML::Node> docs = YAML::LoadAll(yaml_text);
    if (docs.size() > 1)
      throw Error(source + ": " + std::to_string(docs.size()) + " YAML documents; a run config is one document");
    if (!docs.empty()) root = docs[0];
  } catch (const YAML::Exception& e) {
    throw Error(source + ": malformed YAML: " + e.what());
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  YamlReader r(source, c);
  auto& m = c.model;
  auto& d = c.data;
  auto& p = c.parallel;
  r.section(root, "",
            {{"model_name", r.text(c.model_name)},
             {"model_path", r.text(c.model_path)},
             {"exe_mode", r.text(c.exe_mode)},
             {"world_size", r.integer(c.world_size)},
             {"model_config", [](const YAML::Node&, const std::string&) {}},
             {"data_config", [](const YAML::Node&, const std::string&) {}},
             {"parallel_config", [](const YAML::Node&, const std::string&) {}}});
  r.section(root["model_config"], "model_config",
            {{"next_n", r.integer(m.next_n)},
             {"enable_pa", r.boolean(m.enable_pa)},
             {"pa_block_size", r.integer(m.pa_block_size)},
             {"enable_mla_prolog", r.boolean(m.enable_mla_prolog)},
             {"with_ckpt", r.boolean(m.with_ckpt)},
             {"enable_multi_streams", r.boolean(m.enable_multi_streams)},
             {"enable_profiler", r.boolean(m.enable_profiler)},
             {"enable_cache_compile", r.boolean(m.enable_cache_compile)},
             {"enable_prefill_multi_cycle", r.boolean(m.enable_prefill_multi_cycle)},
             {"perfect_eplb", r.boolean(m.perfect_eplb)},
             {"enable_superkernel", r.boolean(m.enable_superkernel)},
             {"enable_online_split_weight", r.boolean(m.enable_online_split_weight)},
             {"enable_auto_split_weight", r.boolean(m.enable_online_split_weight)},
             {"moe_chunk_max_len", r.integer(m.moe_chunk_max_len)},
             {"micro_batch_mode", r.integer(m.micro_batch_mode)},
             {"mm_quant_mode", r.text(m.mm_quant_mode)},
             {"gmm_quant_mode", r.text(m.gmm_quant_mode)},
             {"enable_weight_nz", r.boolean(m.enable_weight_nz)}});
  r.section(root["data_config"], "data_config",
            {{"dataset", r.text(d.dataset)},
             {"dataset_path", r.text(d.dataset_path)},
             {"input_max_len", r.integer(d.input_max_len)},
             {"max_new_tokens", r.integer(d.max_new_tokens)},
             {"batch_size", r.integer(d.batch_size)},
             {"chat_template", r.boolean(d.chat_template)}});
  r.section(root["parallel_config"], "parallel_config",
            {{"attn_tp_size", r.integer(p.attn_tp_size)},
             {"dense_tp_size", r.integer(p.dense_tp_size)},
             {"moe_tp_size", r.integer(p.moe_tp_size)},
             {"embed_tp_size", r.integer(p.embed_tp_size)},
             {"lmhead_tp_size", r.integer(p.lmhead_tp_size)},
             {"moe_ep_size", r.integer(p.moe_ep_size_set)},
             {"enable_o_proj_alltoall", r.boolean(p.enable_o_proj_alltoall)}});
  p.world = c.world_size;
  validate(c);

  c.resolved = {
      {"model_name", c.model_name},
      {"model_path", c.model_path},
      {"exe_mode", c.exe_mode},
      {"world_size", c.world_size},
      {"model_config",
       {{"next_n", m.next_n},
        {"enable_pa", m.enable_pa},
        {"pa_block_size", m.pa_block_size},
        {"enable_mla_prolog", m.enable_mla_prolog},
        {"with_ckpt", m.with_ckpt},
        {"enable_multi_streams", m.enable_multi_streams},
        {"enable_profiler", m.enable_profiler},
        {"enable_cache_compile", m.enable_cache_compile},
        {"enable_prefill_multi_cycle", m.enable_prefill_multi_cycle},
        {"perfect_eplb", m.perfect_eplb},
        {"enable_superkernel", m.enable_superkernel},
        {"enable_online_split_weight", m.enable_online_split_weight},
        {"moe_chunk_max_len", m.moe_chunk_max_len},
        {"micro_batch_mode", m.micro_batch_mode},
        {"mm_quant_mode", m.mm_quant_mode},
        {"gmm_quant_mode", m.gmm_quant_mode},
        {"enable_weight_nz", m.enable_weight_nz}}},
      {"data_config",
       {{"dataset", d.dataset},
        {"dataset_path", d.dataset_path},
        {"input_max_len", d.input_max_len},
        {"max_new_tokens", d.max_new_tokens},
        {"batch_size", d.batch_size},
        {"chat_template", d.chat_template},
        {"max_position_embeddings", c.max_position_embeddings()}}},
      {"parallel_config",
       {{"attn_tp_size", p.attn_tp_size},
        {"dense_tp_size", p.dense_tp_size},
        {"moe_tp_size", p.moe_tp_size},
        {"embed_tp_size", p.embed_tp_size},
        {"lmhead_tp_size", p.lmhead_tp_size},
        {"enable_o_proj_alltoall", p.enable_o_proj_alltoall},
        {"attn_dp_size", p.attn_dp_size()},
        {"moe_ep_size", p.moe_ep_size()}}}};
  return c;
}

RunConfig load_run_config(const std::string& yaml_path) {
  RunConfig c = parse_run_config(read_text_file(yaml_path, "run config"), yaml_path);
  // A relative model_path is taken relative to the YAML file when it exists
  // there (so configs/ work from any directory), else to the working directory.
  namespace fs = std::filesystem;
  const fs::path beside = fs::absolute(yaml_path).parent_path() / c.model_path;
  if (fs::path(c.model_path).is_relative() && fs::exists(beside)) {
    c.model_path = beside.lexically_normal().string();
    c.resolved["model_path"] = c.model_path;
  }
  return c;
}

}  // namespace dsinfer
