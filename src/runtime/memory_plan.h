#pragma once
// Up-front memory plan of an offline run: mapped weights + the latent KV
// cache for batch x max length + a bound on activations. A run that would
// not fit fails before anything is loaded, with the numbers.
#include <cstdint>
#include <string>

#include "io/available_memory.h"  // available_memory_bytes, for callers of plan_memory
#include "io/model_config.h"

namespace dsinfer {

struct MemoryPlan {
  uint64_t weight_bytes = 0;
  uint64_t kv_cache_bytes = 0;
  uint64_t activation_bytes = 0;
  uint64_t available_bytes = 0;  // MemAvailable now
  uint64_t total() const;  // saturating: never wraps to something that fits
  std::string describe() const;
};

// KV bytes for `sequences` sequences of `max_len` tokens in pages of page_size.
uint64_t kv_cache_bytes(const ModelConfig& c, int64_t sequences, int64_t max_len, int64_t page_size);

MemoryPlan plan_memory(const ModelConfig& c, uint64_t weight_bytes, int64_t batch, int64_t prefill_tokens,
                       int64_t max_len, int64_t page_size);
// Throws Error with the plan when it does not fit in available memory.
void check_fits(const MemoryPlan& plan);

}  // namespace dsinfer
