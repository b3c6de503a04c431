#pragma once
// Whole-vocabulary passes of the sampler (argmax, exp-sums for softmax and
// logprobs). Run once per generated token over 100K+ logits, so they must
// vectorize: a scalar double exp per logit costs as much as a decode step.
#include <cstdint>

namespace dsinfer::cpu {

struct VocabMax {
  float max = 0;
  int64_t argmax = 0;     // lowest index among the maxima
  int64_t first_nan = -1; // index of the first NaN, -1 if none
};

// n >= 1.
VocabMax vocab_max(const float* v, int64_t n);

// out[i] = exp((v[i] - shift) * scale) (0 for -inf); returns their sum,
// accumulated in short float runs added into a double. out may be null
// (only the sum is wanted).
double exp_shifted(const float* v, int64_t n, float shift, float scale, float* out);

namespace avx512 {
float vocab_max(const float* v, int64_t n, bool* nan);
int64_t first_equal(const float* v, int64_t n, float value);
double exp_shifted(const float* v, int64_t n, float shift, float scale, float* out);
}  // namespace avx512

}  // namespace dsinfer::cpu
