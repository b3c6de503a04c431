#include "runtime/sampling_params.h"

#include <cmath>
#include <sstream>
#include <string>

#include "io/error.h"

namespace dsinfer {

namespace {

template <typename T>
[[noreturn]] void reject(const char* field, const char* rule, T got) {
  std::ostringstream s;
  s << field << " must be " << rule << ", got " << got;
  throw Error(s.str());
}

}  // namespace

void validate(const SamplingParams& p) {
  // Written as !(in range) so NaN is rejected too.
  if (!(p.temperature >= 0.f) || !std::isfinite(p.temperature)) reject("temperature", ">= 0", p.temperature);
  if (!(p.top_p > 0.f && p.top_p <= 1.f)) reject("top_p", "in (0, 1]", p.top_p);
  if (!(p.min_p >= 0.f && p.min_p <= 1.f)) reject("min_p", "in [0, 1]", p.min_p);
  if (!(p.repetition_penalty > 0.f) || !std::isfinite(p.repetition_penalty))
    reject("repetition_penalty", "> 0", p.repetition_penalty);
  // The OpenAI API range.
  if (!(p.presence_penalty >= -2.f && p.presence_penalty <= 2.f))
    reject("presence_penalty", "in [-2, 2]", p.presence_penalty);
  if (!(p.frequency_penalty >= -2.f && p.frequency_penalty <= 2.f))
    reject("frequency_penalty", "in [-2, 2]", p.frequency_penalty);
  if (p.top_logprobs < 0 || p.top_logprobs > 20) reject("top_logprobs", "in [0, 20]", p.top_logprobs);
}

}  // namespace dsinfer
