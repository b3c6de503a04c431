#include "bench/mtp_projection.h"

#include <cmath>
#include <cstdio>

namespace dsinfer::bench {

namespace {

constexpr int64_t kR1Layers = 61;

double phase_ms(const CaseResult& r, const char* name) {
  for (const auto& p : r.phases)
    if (p.name == name) return p.time_ms;
  return 0;
}

double speedup(double decode, double step, int64_t k, double a) {
  double tokens = 0;
  for (int64_t j = 0; j <= k; ++j) tokens += std::pow(a, static_cast<double>(j));
  return tokens * decode / step;
}

}  // namespace

std::vector<MtpProjection> project_mtp(const std::vector<CaseResult>& cases, int64_t layers, int64_t hidden,
                                       int64_t vocab) {
  std::vector<MtpProjection> out;
  for (const auto& v : cases) {
    if (v.spec.phase != CasePhase::Decode || v.spec.new_tokens <= 1) continue;
    for (const auto& d : cases) {
      if (d.spec.phase != CasePhase::Decode || d.spec.new_tokens != 1 || d.weights != v.weights ||
          d.spec.batch != v.spec.batch || d.spec.context != v.spec.context || d.spec.top_k != v.spec.top_k)
        continue;
      const double head1 = phase_ms(d, "lm_head"), headk = phase_ms(v, "lm_head");
      const double layer1 = (d.time_ms - head1) / static_cast<double>(layers);
      const double layerk = (v.time_ms - headk) / static_cast<double>(layers);
      const double eh = head1 * 2.0 * static_cast<double>(hidden) / static_cast<double>(vocab);
      MtpProjection p;
      p.batch = v.spec.batch;
      p.context = v.spec.context;
      p.drafts = v.spec.new_tokens - 1;
      p.decode_ms = kR1Layers * layer1 + head1;
      p.verify_ms = kR1Layers * layerk + headk;
      p.drafts_ms = static_cast<double>(p.drafts) * (layer1 + head1 + eh);
      const double step = p.verify_ms + p.drafts_ms;
      p.speedup_at_100 = speedup(p.decode_ms, step, p.drafts, 1.0);
      p.speedup_at_70 = speedup(p.decode_ms, step, p.drafts, 0.7);
      p.speedup_at_0 = speedup(p.decode_ms, step, p.drafts, 0.0);
      out.push_back(p);
      break;
    }
  }
  return out;
}

std::string mtp_projection_table(const std::vector<MtpProjection>& ps) {
  std::string s =
      "\nMTP projection to R1 (61 layers + 1 MTP layer + lm_head) from the costs measured above:\n"
      "batch context k | decode_ms verify_ms (x decode) drafts_ms (x decode) | tokens/s vs plain decode at "
      "acceptance 100% / 70% / 0%\n";
  for (const auto& p : ps) {
    char line[256];
    std::snprintf(line, sizeof line, "%5lld %7lld %lld | %9.2f %9.2f (%5.2fx) %9.2f (%5.2fx) | %5.2fx / %5.2fx / %5.2fx\n",
                  static_cast<long long>(p.batch), static_cast<long long>(p.context), static_cast<long long>(p.drafts),
                  p.decode_ms, p.verify_ms, p.verify_ms / p.decode_ms, p.drafts_ms, p.drafts_ms / p.decode_ms,
                  p.speedup_at_100, p.speedup_at_70, p.speedup_at_0);
    s += line;
  }
  s += "(tokens/step = 1 + a + ... + a^k; speedup = tokens/step x decode / (verify + drafts))\n";
  return s;
}

}  // namespace dsinfer::bench
