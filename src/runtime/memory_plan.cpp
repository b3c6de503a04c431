#include "runtime/memory_plan.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "io/error.h"
#include "kernels/cpu/mla_attention_cpu.h"

namespace dsinfer {
namespace {
std::string gib(uint64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f GiB", static_cast<double>(b) / (1ull << 30));
  return buf;
}
}  // namespace

std::string MemoryPlan::describe() const {
  return "weights " + gib(weight_bytes) + " + KV cache " + gib(kv_cache_bytes) + " + activations " +
         gib(activation_bytes) + " = " + gib(total()) + " (available " + gib(available_bytes) + ")";
}

uint64_t kv_cache_bytes(const ModelConfig& c, int64_t sequences, int64_t max_len, int64_t page_size) {
  const int64_t pages = (max_len + page_size - 1) / page_size;
  const uint64_t latent = c.quant.kv_cache_int8 ? (c.kv_lora_rank + 3) / 4 * 4 : c.kv_lora_rank * 4;
  const uint64_t per_token = static_cast<uint64_t>(c.num_hidden_layers) * (latent + c.qk_rope_head_dim * 4);
  return static_cast<uint64_t>(sequences * pages * page_size) * per_token;
}

MemoryPlan plan_memory(const ModelConfig& c, uint64_t weight_bytes, int64_t batch, int64_t prefill_tokens,
                       int64_t max_len, int64_t page_size) {
  MemoryPlan p;
  p.weight_bytes = weight_bytes;
  p.kv_cache_bytes = kv_cache_bytes(c, batch, max_len, page_size);
  // Per prefill token: residual/norm/output rows, queries, latents, the
  // widest MLP intermediate (x2 for gate and up), all float32; plus one
  // chunk of expanded K/V (prefill attention) and the logits of the batch.
  const int64_t heads = c.num_attention_heads;
  const int64_t inter = std::max(c.intermediate_size, c.moe_intermediate_size * std::max<int64_t>(1, c.n_shared_experts));
  const uint64_t per_token = 4ull * (6 * c.hidden_size + heads * (c.qk_head_dim() + c.v_head_dim) +
                                     c.kv_lora_rank + c.qk_rope_head_dim + 2 * inter + c.n_routed_experts);
  p.activation_bytes = per_token * static_cast<uint64_t>(prefill_tokens) +
                       4ull * std::min<int64_t>(max_len, cpu::kExpandedKeyChunk) * heads * (c.qk_nope_head_dim + c.v_head_dim) +
                       4ull * batch * c.vocab_size;
  p.available_bytes = available_memory_bytes();
  return p;
}

void check_fits(const MemoryPlan& plan) {
  if (plan.available_bytes > 0 && plan.total() > plan.available_bytes)
    throw Error("run does not fit in memory: needs " + plan.describe() +
                "; lower data_config.batch_size or input_max_len, or use a smaller checkpoint");
}

uint64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream ss(line.substr(13));
      uint64_t kb = 0;
      ss >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

}  // namespace dsinfer
