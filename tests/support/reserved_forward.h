#pragma once
// Tests drive DeepseekModel::forward directly; like the Engine, they reserve
// each entry's cache pages first.
#include <span>
#include <vector>

#include "model/deepseek_model.h"

namespace dsinfer::test {

inline std::vector<float> forward_reserved(const DeepseekModel& model, std::span<const BatchEntry> batch,
                                           PagedLatentCache& cache, const ForwardOptions& options = {}) {
  for (const BatchEntry& e : batch) cache.reserve(e.seq, cache.length(e.seq) + static_cast<int64_t>(e.tokens.size()));
  return model.forward(batch, cache, options);
}

}  // namespace dsinfer::test
