#include "runtime/memory_plan.h"

#include <algorithm>
#include <cstdio>

#include "io/error.h"
#include "kernels/cpu/mla_attention_cpu.h"

namespace dsinfer {
namespace {

// Sizes from hostile inputs must not wrap around to a plan that "fits":
// everything is computed in 128 bits and saturates at UINT64_MAX.
using Wide = unsigned __int128;
uint64_t saturate(Wide v) { return v > Wide(UINT64_MAX) ? UINT64_MAX : static_cast<uint64_t>(v); }
Wide nonneg(int64_t v) { return v < 0 ? Wide(0) : Wide(static_cast<uint64_t>(v)); }

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

uint64_t MemoryPlan::total() const {
  return saturate(Wide(weight_bytes) + Wide(kv_cache_bytes) + Wide(activation_bytes));
}

uint64_t kv_cache_bytes(const ModelConfig& c, int64_t sequences, int64_t max_len, int64_t page_size) {
  const Wide page = nonneg(std::max<int64_t>(page_size, 1));
  const Wide pages = (nonneg(max_len) + page - 1) / page;
  const Wide latent = c.quant.kv_cache_int8 ? nonneg((c.kv_lora_rank + 3) / 4 * 4) : nonneg(c.kv_lora_rank) * 4;
  const Wide per_token = nonneg(c.num_hidden_layers) * (latent + nonneg(c.qk_rope_head_dim) * 4);
  return saturate(nonneg(sequences) * pages * page * per_token);
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
  const Wide per_token = 4 * (nonneg(6 * c.hidden_size) + nonneg(heads) * nonneg(c.qk_head_dim() + c.v_head_dim) +
                              nonneg(c.kv_lora_rank + c.qk_rope_head_dim) + 2 * nonneg(inter) +
                              nonneg(c.n_routed_experts));
  p.activation_bytes = saturate(per_token * nonneg(prefill_tokens) +
                                4 * nonneg(std::min<int64_t>(max_len, cpu::kExpandedKeyChunk)) * nonneg(heads) *
                                    nonneg(c.qk_nope_head_dim + c.v_head_dim) +
                                4 * nonneg(batch) * nonneg(c.vocab_size));
  p.available_bytes = available_memory_bytes();
  return p;
}

void check_fits(const MemoryPlan& plan) {
  if (plan.available_bytes == 0 || plan.total() <= plan.available_bytes) return;
  // Name what to change by the term that dominates.
  std::string advice;
  if (plan.kv_cache_bytes >= plan.activation_bytes && plan.kv_cache_bytes >= plan.weight_bytes)
    advice = "the KV cache dominates: lower data_config.batch_size, input_max_len + max_new_tokens, or "
             "model_config.pa_block_size (each sequence takes whole pages)";
  else if (plan.activation_bytes >= plan.weight_bytes)
    advice = "the prefill activations dominate: lower data_config.batch_size x input_max_len, or set "
             "model_config.enable_prefill_multi_cycle: True";
  else
    advice = "the weights dominate: use a smaller checkpoint, or split it over more ranks (mpirun)";
  throw Error("run does not fit in memory: needs " + plan.describe() + "; " + advice);
}

}  // namespace dsinfer
