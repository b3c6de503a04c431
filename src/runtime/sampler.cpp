#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "io/error.h"
#include "kernels/cpu/vocab_reductions.h"

namespace dsinfer {

namespace {


// "a ranks above b" in the order every filter cuts: higher logit (or
// probability), then lower id. A strict total order, so each cut is a single
// key and ties never depend on the standard library's algorithms.
template <typename V>
bool ranks_above(V va, int32_t ia, V vb, int32_t ib) {
  return va > vb || (va == vb && ia < ib);
}

struct Scan {
  float max;
  int32_t argmax;  // lowest id among the maxima
};

// One pass for both modes; NaN would break every comparison below.
Scan scan(const float* v, int64_t n) {
  const cpu::VocabMax m = cpu::vocab_max(v, n);
  if (m.first_nan >= 0) throw Error("sampler: logits contain NaN at token " + std::to_string(m.first_nan));
  return {m.max, static_cast<int32_t>(m.argmax)};
}

}  // namespace

bool Sampler::key_above(const Key& a, const Key& b) { return ranks_above(a.logit, a.id, b.logit, b.id); }

bool Sampler::Kept::keeps(const Candidate& c) const {
  return c.w > 0.0 && c.w >= min_w && !(use_top_p && ranks_above(p_cut.w, p_cut.id, c.w, c.id));
}

void Sampler::select_top(const float* v, int64_t n, int64_t k, MappedVector<Key>& keys) {
  keys.clear();
  if (k * 8 <= n && k <= 2048) {
    // Heap of the k best so far, least likely at the front: one comparison
    // for most tokens, O(n log k) at worst.
    for (int64_t i = 0; i < k; ++i) keys.push_back({v[i], static_cast<int32_t>(i)});
    std::make_heap(keys.begin(), keys.end(), key_above);
    for (int64_t i = k; i < n; ++i) {
      const Key c{v[i], static_cast<int32_t>(i)};
      if (!key_above(c, keys.front())) continue;
      std::pop_heap(keys.begin(), keys.end(), key_above);
      keys.back() = c;
      std::push_heap(keys.begin(), keys.end(), key_above);
    }
    return;
  }
  // Large k: linear-time selection.
  keys.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) keys[static_cast<size_t>(i)] = {v[i], static_cast<int32_t>(i)};
  std::nth_element(keys.begin(), keys.begin() + (k - 1), keys.end(), key_above);
  keys.resize(static_cast<size_t>(k));
}

Sampler::Sampler(const SamplingParams& params, std::span<const int32_t> prompt) : params_(params) {
  validate(params_);
  uint64_t seed;
  if (params_.seed) {
    seed = *params_.seed;
  } else {
    std::random_device rd;  // 32 bits per call
    seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  rng_.seed(seed);
  if (params_.repetition_penalty != 1.f) seen_.insert(prompt.begin(), prompt.end());
}

double Sampler::next_uniform() {
  // Not std::uniform_real_distribution: its algorithm differs between
  // standard libraries, and seeded runs must reproduce everywhere.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

void Sampler::apply_penalties(MappedVector<float>& logits) const {
  const auto vocab = static_cast<int64_t>(logits.size());
  const auto in_vocab = [vocab](int32_t t) { return t >= 0 && t < vocab; };
  const float rp = params_.repetition_penalty;
  if (rp != 1.f) {
    // Once per distinct token, however often it occurred.
    for (int32_t t : seen_) {
      if (!in_vocab(t)) continue;
      float& l = logits[static_cast<size_t>(t)];
      l = l > 0.f ? l / rp : l * rp;
    }
  }
  const float pres = params_.presence_penalty, freq = params_.frequency_penalty;
  if (pres != 0.f || freq != 0.f) {
    for (const auto& [t, count] : counts_) {
      if (!in_vocab(t)) continue;
      logits[static_cast<size_t>(t)] -= freq * static_cast<float>(count) + pres;
    }
  }
}

Sampler::Kept Sampler::filter(const float* logits, int64_t n, float max_logit) {
  if (!std::isfinite(max_logit)) throw Error("sampler: logits have no finite maximum");
  const double temp = params_.temperature;

  // Softmax weights relative to the max: the most likely token has w == 1
  // exactly, so p_i / p_max == w_i. cands_ is kept in id order (the CDF order).
  const auto weight = [&](float l) { return std::exp((static_cast<double>(l) - max_logit) / temp); };
  cands_.clear();
  double total = 0.0;
  if (params_.top_k > 0 && params_.top_k < n) {
    // top_k: dividing by T > 0 does not change the ranking, so select on the
    // logits themselves, then compute only k weights.
    select_top(logits, n, params_.top_k, keys_);
    std::sort(keys_.begin(), keys_.end(), [](const Key& a, const Key& b) { return a.id < b.id; });
    for (const Key& k : keys_) {
      cands_.push_back({weight(k.logit), k.id});
      total += cands_.back().w;
    }
  } else {
    // The whole vocabulary: vectorized float exp (w == 1 stays exact).
    weights_.resize(static_cast<size_t>(n));
    total = cpu::exp_shifted(logits, n, max_logit, static_cast<float>(1.0 / temp), weights_.data());
    cands_.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) cands_[static_cast<size_t>(i)] = {weights_[static_cast<size_t>(i)], static_cast<int32_t>(i)};
  }

  // top_p and min_p (p >= min_p * p_max  <=>  w >= min_p) both keep a prefix
  // of the most-likely-first order, so together they keep the shorter one
  // and their order does not matter, as long as top_p's mass is measured
  // against the whole top-k distribution (`total`).
  const double min_w = params_.min_p;
  const bool use_top_p = params_.top_p < 1.f;
  Candidate p_cut{};
  if (use_top_p) {
    // Tokens under half of (1 - top_p) * total / n hold less than (1 - top_p)
    // of the mass between them, so none is in the nucleus: dropping them first
    // keeps the sort small on peaked distributions.
    const double floor_w =
        std::max(min_w, 0.5 * (1.0 - params_.top_p) * total / static_cast<double>(cands_.size()));
    sorted_.clear();
    for (const auto& c : cands_)
      if (c.w > 0.0 && c.w >= floor_w) sorted_.push_back(c);  // never empty: the top token has w == 1
    // Sort only as far as the nucleus reaches: select the next chunk of most
    // likely survivors, sort just that chunk, accumulate, double the chunk.
    // The mass is still summed in the sorted order, as a full sort would.
    const auto above = [](const Candidate& a, const Candidate& b) { return ranks_above(a.w, a.id, b.w, b.id); };
    const double target = static_cast<double>(params_.top_p) * total;
    double cum = 0.0;
    bool reached = false;
    for (size_t done = 0, chunk = 256; done < sorted_.size() && !reached; chunk *= 2) {
      const auto first = sorted_.begin() + static_cast<std::ptrdiff_t>(done);
      const size_t end = std::min(sorted_.size(), done + chunk);
      const auto last = sorted_.begin() + static_cast<std::ptrdiff_t>(end);
      if (end < sorted_.size()) std::nth_element(first, last, sorted_.end(), above);
      std::sort(first, last, above);
      for (; done < end; ++done) {
        cum += sorted_[done].w;
        if (cum >= target) {
          p_cut = sorted_[done];
          reached = true;
          break;
        }
      }
    }
    if (!reached) p_cut = sorted_.back();  // min_p (or rounding) ended the list first
  }
  Kept k{min_w, use_top_p, p_cut, 0.0};
  for (const auto& c : cands_)
    if (k.keeps(c)) k.mass += c.w;
  return k;
}

int32_t Sampler::draw(const float* logits, int64_t n, float max_logit) {
  const Kept k = filter(logits, n, max_logit);
  // Renormalize implicitly: invert the CDF of the kept weights, in id order.
  const double u = next_uniform() * k.mass;
  double cum = 0.0;
  int32_t last = -1;
  for (const auto& c : cands_) {
    if (!k.keeps(c)) continue;
    cum += c.w;
    last = c.id;
    if (cum > u) return c.id;
  }
  return last;  // rounding: u landed on the last partial sum
}

const float* Sampler::penalized(const float* logits, int64_t vocab) {
  const bool any = params_.repetition_penalty != 1.f || params_.presence_penalty != 0.f || params_.frequency_penalty != 0.f;
  if (!any) return logits;
  work_.assign(logits, logits + vocab);
  apply_penalties(work_);
  return work_.data();
}

void Sampler::distribution(const float* logits, int64_t vocab, std::vector<float>& probs) {
  if (vocab <= 0) throw Error("sampler: vocab must be positive, got " + std::to_string(vocab));
  const float* scored = penalized(logits, vocab);
  const Scan s = scan(scored, vocab);
  probs.assign(static_cast<size_t>(vocab), 0.f);
  if (greedy()) {
    probs[static_cast<size_t>(s.argmax)] = 1.f;
    return;
  }
  const Kept k = filter(scored, vocab, s.max);
  for (const auto& c : cands_)
    if (k.keeps(c)) probs[static_cast<size_t>(c.id)] = static_cast<float>(c.w / k.mass);
}

int32_t Sampler::draw_from(std::span<const float> probs) {
  double mass = 0.0;
  for (float p : probs) mass += p;
  if (!(mass > 0.0)) throw Error("sampler: a distribution with no mass");
  const double u = next_uniform() * mass;
  double cum = 0.0;
  int32_t last = -1;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] <= 0.f) continue;
    cum += probs[i];
    last = static_cast<int32_t>(i);
    if (cum > u) return last;
  }
  return last;
}

double Sampler::uniform() { return next_uniform(); }

SampledToken Sampler::record(int32_t token, const float* logits, int64_t vocab) {
  SampledToken out;
  out.token = token;
  if (params_.logprobs || params_.top_logprobs > 0) fill_logprobs(logits, vocab, out);
  if (params_.repetition_penalty != 1.f) seen_.insert(out.token);
  if (params_.presence_penalty != 0.f || params_.frequency_penalty != 0.f) ++counts_[out.token];
  ++num_generated_;
  return out;
}

void Sampler::fill_logprobs(const float* logits, int64_t vocab, SampledToken& out) {
  const float m = cpu::vocab_max(logits, vocab).max;
  const double lse = static_cast<double>(m) + std::log(cpu::exp_shifted(logits, vocab, m, 1.f, nullptr));
  out.logprob = static_cast<float>(logits[out.token] - lse);

  const int64_t k = std::min(params_.top_logprobs, vocab);
  if (k <= 0) return;
  select_top(logits, vocab, k, keys_);
  std::sort(keys_.begin(), keys_.end(), key_above);
  out.top_logprobs.resize(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) {
    const Key& key = keys_[static_cast<size_t>(i)];
    out.top_logprobs[static_cast<size_t>(i)] = {key.id, static_cast<float>(key.logit - lse)};
  }
}

SampledToken Sampler::sample(const float* logits, int64_t vocab) {
  if (vocab <= 0 || vocab > std::numeric_limits<int32_t>::max())
    throw Error("sampler: vocab must be in [1, 2^31), got " + std::to_string(vocab));
  if (logits == nullptr) throw Error("sampler: logits is null");

  // Penalties act on a copy: the caller's logits stay the raw model output,
  // which is also what logprobs report.
  const float* scored = penalized(logits, vocab);
  const Scan s = scan(scored, vocab);
  const int32_t token = greedy() ? s.argmax : draw(scored, vocab, s.max);
  return record(token, logits, vocab);
}

}  // namespace dsinfer
