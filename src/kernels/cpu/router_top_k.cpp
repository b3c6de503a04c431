#include "kernels/cpu/router_top_k.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernels/cpu/cpu_ops.h"

namespace dsinfer::cpu {
namespace {

// Indices of the k largest values, largest first; ties keep the lower index.
std::vector<int32_t> top_k_indices(const std::vector<float>& v, int64_t k) {
  std::vector<int32_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int32_t a, int32_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  idx.resize(static_cast<size_t>(k));
  return idx;
}

}  // namespace

RoutingResult route_top_k(const RouterSpec& c, const float* logits, int64_t n_tokens, std::span<const float> bias) {
  const int64_t E = c.n_experts, K = c.top_k;
  const int64_t groups = c.n_group, per_group = E / groups;
  RoutingResult r;
  r.top_k = K;
  r.experts.resize(static_cast<size_t>(n_tokens * K));
  r.weights.resize(static_cast<size_t>(n_tokens * K));
  std::vector<float> scores(static_cast<size_t>(E)), choice(static_cast<size_t>(E));
  std::vector<float> group_score(static_cast<size_t>(groups));
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* l = logits + t * E;
    if (c.scoring == ScoringFunc::Softmax) {
      std::copy(l, l + E, scores.begin());
      softmax_inplace(scores.data(), E);
    } else {
      for (int64_t e = 0; e < E; ++e) scores[e] = 1.0f / (1.0f + std::exp(-l[e]));
    }
    for (int64_t e = 0; e < E; ++e) choice[e] = scores[e] + (bias.empty() ? 0.f : bias[e]);

    if (c.method != TopkMethod::Greedy && groups > 1) {
      for (int64_t g = 0; g < groups; ++g) {
        std::vector<float> members(choice.begin() + g * per_group, choice.begin() + (g + 1) * per_group);
        if (c.method == TopkMethod::NoauxTc) {
          std::partial_sort(members.begin(), members.begin() + std::min<int64_t>(2, per_group), members.end(),
                            std::greater<float>());
          group_score[g] = members[0] + (per_group > 1 ? members[1] : 0.f);
        } else {
          group_score[g] = *std::max_element(members.begin(), members.end());
        }
      }
      const auto keep = top_k_indices(group_score, c.topk_group);
      std::vector<bool> kept(static_cast<size_t>(groups), false);
      for (int32_t g : keep) kept[g] = true;
      // Experts of dropped groups get 0, as the Hugging Face reference masks them.
      for (int64_t e = 0; e < E; ++e)
        if (!kept[e / per_group]) choice[e] = 0.f;
    }
    const auto chosen = top_k_indices(choice, K);
    float sum = 0.f;
    for (int64_t k = 0; k < K; ++k) {
      r.experts[t * K + k] = chosen[k];
      r.weights[t * K + k] = scores[chosen[k]];
      sum += scores[chosen[k]];
    }
    const bool normalize = c.norm_topk_prob && K > 1;
    for (int64_t k = 0; k < K; ++k) {
      float wgt = r.weights[t * K + k];
      if (normalize) wgt /= (sum + 1e-20f);
      r.weights[t * K + k] = wgt * static_cast<float>(c.routed_scaling_factor);
    }
  }
  return r;
}

}  // namespace dsinfer::cpu
