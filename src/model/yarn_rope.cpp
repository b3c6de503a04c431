#include "model/yarn_rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace dsinfer {

double yarn_mscale(double factor, double mscale) {
  if (factor <= 1.0) return 1.0;
  return 0.1 * mscale * std::log(factor) + 1.0;
}

namespace {
// Dimension index at which a wavelength makes `num_rotations` turns over the
// original context (YaRN's correction range boundaries).
double correction_dim(double num_rotations, double dim, double base, double max_pos) {
  return dim * std::log(max_pos / (num_rotations * 2.0 * std::numbers::pi)) / (2.0 * std::log(base));
}
}  // namespace

YarnRope::YarnRope(const ModelConfig& c) : dim_(c.qk_rope_head_dim) {
  const int64_t half = dim_ / 2;
  const double base = c.rope_theta;
  inv_freq_.resize(static_cast<size_t>(half));
  // Frequencies are computed in float32 as the reference implementations do.
  for (int64_t i = 0; i < half; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(dim_);
    inv_freq_[i] = 1.0f / std::pow(static_cast<float>(base), exponent);
  }
  double softmax_scale = 1.0 / std::sqrt(static_cast<double>(c.qk_head_dim()));
  const RopeScaling& s = c.rope_scaling;
  if (s.type == "yarn") {
    const double f = s.factor;
    double low = std::floor(correction_dim(s.beta_fast, dim_, base, s.original_max_position_embeddings));
    double high = std::ceil(correction_dim(s.beta_slow, dim_, base, s.original_max_position_embeddings));
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(dim_ - 1));
    if (low == high) high += 0.001;  // avoid a zero-width ramp
    for (int64_t i = 0; i < half; ++i) {
      const float ramp = static_cast<float>(std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0));
      const float extrapolation_mask = 1.0f - ramp;
      const float extra = inv_freq_[i];
      const float inter = extra / static_cast<float>(f);
      inv_freq_[i] = inter * (1.0f - extrapolation_mask) + extra * extrapolation_mask;
    }
    attention_factor_ = static_cast<float>(yarn_mscale(f, s.mscale) / yarn_mscale(f, s.mscale_all_dim));
    if (s.mscale_all_dim != 0.0) {
      const double m = yarn_mscale(f, s.mscale_all_dim);
      softmax_scale *= m * m;
    }
  }
  softmax_scale_ = static_cast<float>(softmax_scale);
}

}  // namespace dsinfer
