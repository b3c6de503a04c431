#pragma once
// The seed's YAML run configuration (cann-recipes-infer DeepSeek-R1/Kimi-K2
// sample), with its section and key names. Parsed with yaml-cpp; unknown keys
// become warnings, NPU-only keys are accepted and reported as not applicable,
// invalid values and combinations throw Error naming the key.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dsinfer {

struct RunConfig {
  std::string source;  // YAML file it came from

  // Top level.
  std::string model_name = "deepseek_r1";  // deepseek_r1 | kimi_k2 | deepseek_v2_lite | deepseek_v3
  std::string model_path;
  std::string exe_mode = "eager";  // ge_graph | acl_graph | eager (graph modes: decode compiled on NPU)
  int64_t world_size = 1;

  struct Model {
    int64_t next_n = 0;
    bool enable_pa = false;
    int64_t pa_block_size = 128;
    bool enable_mla_prolog = false;
    bool with_ckpt = true;
    bool enable_multi_streams = false;
    bool enable_profiler = false;
    bool enable_cache_compile = false;
    bool enable_prefill_multi_cycle = false;
    bool perfect_eplb = false;
    bool enable_superkernel = false;
    bool enable_online_split_weight = true;  // every rank maps the checkpoint and takes its slices
    int64_t moe_chunk_max_len = 65536;
    int64_t micro_batch_mode = 0;
    std::string mm_quant_mode, gmm_quant_mode;  // informational: the checkpoint decides
    bool enable_weight_nz = false;
  } model;

  struct Data {
    std::string dataset = "default";  // default | LongBench
    std::string dataset_path;         // LongBench folder of *.jsonl (default dataset/LongBench/data)
    int64_t input_max_len = 1024;
    int64_t max_new_tokens = 32;
    int64_t batch_size = 1;
    bool chat_template = false;       // wrap prompts in the model's chat template
  } data;

  struct Parallel {
    int64_t attn_tp_size = 1, dense_tp_size = 1, moe_tp_size = 1, embed_tp_size = 1, lmhead_tp_size = 1;
    bool enable_o_proj_alltoall = false;
    int64_t moe_ep_size_set = 0;  // parallel_config.moe_ep_size as given (0: absent; checked against the derived size)
    int64_t attn_dp_size() const;
    int64_t moe_ep_size() const;
    int64_t world = 1;  // copy of world_size for the derived sizes
  } parallel;

  // Derived as the seed does: max_new_tokens * (next_n + 1) + input_max_len.
  int64_t max_position_embeddings() const { return data.max_new_tokens * (model.next_n + 1) + data.input_max_len; }

  std::vector<std::string> warnings;        // unknown keys and the like
  std::vector<std::string> not_applicable;  // keys that only mean something on NPUs
  nlohmann::json resolved;                  // every key with its effective value
};

RunConfig load_run_config(const std::string& yaml_path);
RunConfig parse_run_config(const std::string& yaml_text, const std::string& source);

}  // namespace dsinfer
