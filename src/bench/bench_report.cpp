#include "bench/bench_report.h"

#include <algorithm>
#include <cstdio>

namespace dsinfer::bench {
namespace {

// The ceilings one case is judged against: its own read measurement where
// the bench took one around it.
Ceilings case_ceilings(const Ceilings& all, const CaseResult& r) {
  Ceilings c = all;
  if (r.read_gb_per_s > 0) c.read_gb_per_s = r.read_gb_per_s;
  if (r.peaks.measured()) {
    c.int8_tops = r.peaks.int8_tops;
    c.bf16_tflops = r.peaks.bf16_tflops;
    c.fp32_tflops = r.peaks.fp32_tflops;
  }
  return c;
}

double bw_fraction(const Ceilings& c, double bytes, double ms) {
  return ms > 0 && c.read_gb_per_s > 0 ? bytes / (ms * 1e-3) / (c.read_gb_per_s * 1e9) : 0.0;
}
double compute_fraction(double peak, double flops, double ms) {
  return ms > 0 && peak > 0 ? flops / (ms * 1e-3) / peak : 0.0;
}

// Fraction of the read ceiling a phase could reach at best (1 when memory-bound
// on the roofline, less when its FLOPs take longer than its bytes).
double max_bw_fraction(const Ceilings& c, BenchWeights weights, const PhaseResult& p) {
  const double roof = roofline_ms(c, weights, p);
  return roof > 0 ? bw_fraction(c, p.bytes, roof) : 0.0;
}

nlohmann::json phase_json(const Ceilings& c, BenchWeights weights, const PhaseResult& p) {
  const double roof = roofline_ms(c, weights, p);
  return {{"name", p.name},
          {"roofline_ms", roof},
          {"roofline_fraction", p.time_ms > 0 ? roof / p.time_ms : 0.0},
          {"max_bw_fraction", max_bw_fraction(c, weights, p)},
          {"time_ms", p.time_ms},
          {"bytes", p.bytes},
          {"flops", p.flops},
          {"gb_per_s", p.time_ms > 0 ? p.bytes / (p.time_ms * 1e-3) / 1e9 : 0.0},
          {"bw_fraction", bw_fraction(c, p.bytes, p.time_ms)},
          {"compute_fraction", compute_fraction(phase_peak(c, weights, p), p.flops, p.time_ms)}};
}

}  // namespace

nlohmann::json report_json(const Ceilings& all, const std::vector<CaseResult>& cases, const nlohmann::json& machine) {
  nlohmann::json out;
  out["machine"] = machine;
  out["ceilings"] = {{"read_gb_per_s", all.read_gb_per_s},
                     {"int8_tops", all.int8_tops},
                     {"bf16_tflops", all.bf16_tflops},
                     {"fp32_tflops", all.fp32_tflops},
                     {"read_gb_per_s_1thread", all.read_gb_per_s_1thread},
                     {"read_streams_per_thread", all.read_streams},
                     {"read_gb_per_s_samples", all.read_samples},
                     {"read_buffer_bytes", all.buffer_bytes}};
  out["cases"] = nlohmann::json::array();
  for (const auto& r : cases) {
    const Ceilings c = case_ceilings(all, r);
    std::string peak_name;
    compute_peak(c, r.weights, &peak_name);
    double roof = 0;
    for (const auto& p : r.phases) roof += roofline_ms(c, r.weights, p);
    nlohmann::json j = {{"phase", case_phase_name(r.spec.phase)},
                        {"weights", weights_label(r.weights)},
                        {"batch", r.spec.batch},
                        {"context", r.spec.context},
                        {"top_k", r.spec.top_k},
                        {"new_tokens", r.spec.new_tokens},
                        {"active_experts", r.active_experts},
                        {"time_ms", r.time_ms},
                        {"bytes", r.bytes},
                        {"flops", r.flops},
                        {"gb_per_s", r.time_ms > 0 ? r.bytes / (r.time_ms * 1e-3) / 1e9 : 0.0},
                        {"bw_fraction", bw_fraction(c, r.bytes, r.time_ms)},
                        {"compute_fraction", compute_fraction(compute_peak(c, r.weights), r.flops, r.time_ms)},
                        {"compute_peak", peak_name},
                        {"read_gb_per_s", c.read_gb_per_s},
                        {"peaks", {{"int8_tops", c.int8_tops},
                                   {"bf16_tflops", c.bf16_tflops},
                                   {"fp32_tflops", c.fp32_tflops},
                                   {"measured_around_case", r.peaks.measured()}}},
                        {"roofline_ms", roof},
                        {"roofline_fraction", r.time_ms > 0 ? roof / r.time_ms : 0.0}};
    j["phases"] = nlohmann::json::array();
    for (const auto& p : r.phases) j["phases"].push_back(phase_json(c, r.weights, p));
    out["cases"].push_back(std::move(j));
  }
  return out;
}

std::string report_table(const Ceilings& all, const std::vector<CaseResult>& cases) {
  std::string s;
  char line[512];
  std::snprintf(line, sizeof line, "ceilings: read %.1f GB/s | int8 %.3f TOPS | bf16 %.3f TFLOPS | fp32 %.3f TFLOPS\n",
                all.read_gb_per_s, all.int8_tops, all.bf16_tflops, all.fp32_tflops);
  s += line;
  std::snprintf(line, sizeof line,
                "  (read: %d sequential stream(s) per thread, the fastest of 1/2/4/8 here; one thread alone: %.1f "
                "GB/s, all threads %.2fx that)\n",
                all.read_streams, all.read_gb_per_s_1thread,
                all.read_gb_per_s_1thread > 0 ? all.read_gb_per_s / all.read_gb_per_s_1thread : 0.0);
  s += line;
  if (all.read_samples.size() > 1) {
    double lo = all.read_samples[0];
    for (double v : all.read_samples) lo = std::min(lo, v);
    std::snprintf(line, sizeof line, "  (read: highest of %zu measurements during the run; lowest %.1f GB/s)\n",
                  all.read_samples.size(), lo);
    s += line;
  }
  s += "bw% and max-bw% are against the read ceiling measured around each case (ceil GB/s); compute% and roof% of\n"
       "prefill cases against the instruction peaks measured around them (the bench's log line per case)\n";
  s += "phase   weights batch context top_k | part            time_ms      GB     GFLOP   GB/s  bw%   compute%       "
       "roof%  max-bw%  ceil\n";
  for (const auto& r : cases) {
    const Ceilings c = case_ceilings(all, r);
    auto row = [&](const std::string& part, double peak, const std::string& peak_name, double ms, double bytes,
                   double flops, double roof) {
      const double max_bw = roof > 0 ? 100 * bw_fraction(c, bytes, roof) : 0.0;
      std::snprintf(line, sizeof line,
                    "%-7s %-7s %5lld %7lld %5lld | %-14s %9.2f %7.3f %9.2f %6.1f %5.1f %6.1f (%-4s) %6.1f %6.1f %5.1f\n",
                    case_label(r.spec).c_str(), weights_label(r.weights), static_cast<long long>(r.spec.batch),
                    static_cast<long long>(r.spec.context), static_cast<long long>(r.spec.top_k), part.c_str(), ms,
                    bytes / 1e9, flops / 1e9, ms > 0 ? bytes / ms / 1e6 : 0.0, 100 * bw_fraction(c, bytes, ms),
                    100 * compute_fraction(peak, flops, ms), peak_name.c_str(), ms > 0 ? 100 * roof / ms : 0.0,
                    max_bw, c.read_gb_per_s);
      s += line;
    };
    double roof = 0;
    for (const auto& p : r.phases) roof += roofline_ms(c, r.weights, p);
    std::string name;
    const double total_peak = compute_peak(c, r.weights, &name);
    row("TOTAL", total_peak, name, r.time_ms, r.bytes, r.flops, roof);
    for (const auto& p : r.phases) {
      const double peak = phase_peak(c, r.weights, p, &name);
      row("  " + p.name, peak, name, p.time_ms, p.bytes, p.flops, roofline_ms(c, r.weights, p));
    }
  }
  return s;
}

}  // namespace dsinfer::bench
