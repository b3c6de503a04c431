#pragma once
// Rotary position embedding with YaRN scaling, as DeepSeek-V3 uses it on the
// qk_rope_head_dim slice of queries and keys. Pairs are interleaved
// (elements 2i and 2i+1 rotate together with frequency i).
#include <cstdint>
#include <vector>

#include "backend/ops.h"
#include "io/model_config.h"

namespace dsinfer {

// mscale(f, m) = 0.1 * m * ln(f) + 1 for f > 1, else 1.
double yarn_mscale(double factor, double mscale);

class YarnRope {
 public:
  explicit YarnRope(const ModelConfig& config);
  // What the backend's rope op rotates with.
  RopeTable table() const { return {inv_freq_.data(), dim_, attention_factor_}; }
  const std::vector<float>& inv_freq() const { return inv_freq_; }
  // Multiplier of cos/sin: mscale(factor, mscale) / mscale(factor, mscale_all_dim).
  float attention_factor() const { return attention_factor_; }
  // Softmax scale of MLA: qk_head_dim^-0.5 * mscale(factor, mscale_all_dim)^2.
  float softmax_scale() const { return softmax_scale_; }

 private:
  int64_t dim_;
  std::vector<float> inv_freq_;
  float attention_factor_ = 1.f;
  float softmax_scale_ = 1.f;
};

}  // namespace dsinfer
