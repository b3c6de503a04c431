#include "server/metrics.h"

#include <algorithm>
#include <cstdio>

namespace dsinfer::server {
namespace {

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof(b), "%.9g", v);
  return b;
}

std::vector<double> latency_bounds() {
  return {0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 60, 120, 300};
}

}  // namespace

void Histogram::observe(double v) {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  ++counts_[i];
  sum_ += v;
  ++n_;
}

std::string Histogram::render(const std::string& name, const std::string& help, const std::string& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string s = "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    s += name + "_bucket{" + labels + ",le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cum) + "\n";
  }
  cum += counts_.back();
  s += name + "_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(cum) + "\n";
  s += name + "_sum{" + labels + "} " + num(sum_) + "\n";
  s += name + "_count{" + labels + "} " + std::to_string(n_) + "\n";
  return s;
}

ServerMetrics::ServerMetrics() : ttft(latency_bounds()), itl(latency_bounds()), e2e(latency_bounds()) {}

void ServerMetrics::request_done(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [code, n] : by_status_)
    if (code == status) {
      ++n;
      return;
    }
  by_status_.emplace_back(status, 1);
}

void ServerMetrics::tokens(int64_t prompt, int64_t generated) {
  std::lock_guard<std::mutex> lock(mu_);
  prompt_tokens_ += static_cast<uint64_t>(prompt);
  generated_tokens_ += static_cast<uint64_t>(generated);
}

std::string ServerMetrics::render(const SchedulerStats& st, const std::string& model) const {
  const std::string l = "model_name=\"" + model + "\"";
  std::string s;
  auto gauge = [&](const std::string& name, const std::string& help, double v, const char* type = "gauge") {
    s += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + "{" + l + "} " + num(v) + "\n";
  };
  gauge("dsinfer_num_requests_running", "Requests running in the engine", static_cast<double>(st.running));
  gauge("dsinfer_num_requests_waiting", "Requests waiting for admission", static_cast<double>(st.waiting));
  gauge("dsinfer_kv_cache_pages_total", "KV cache pages in the pool", static_cast<double>(st.pages_total));
  gauge("dsinfer_kv_cache_pages_used", "KV cache pages held by requests", static_cast<double>(st.pages_held_by_requests));
  gauge("dsinfer_kv_cache_pages_cached", "KV cache pages kept by the prefix cache", static_cast<double>(st.pages_cached));
  gauge("dsinfer_prefix_cache_hit_rate", "Prompt tokens served from the prefix cache over prompt tokens looked up",
        st.prefix_queried_tokens > 0 ? static_cast<double>(st.prefix_hit_tokens) / static_cast<double>(st.prefix_queried_tokens) : 0.0);
  gauge("dsinfer_num_preemptions_total", "Sequences preempted for lack of KV pages", static_cast<double>(st.preemptions), "counter");
  if (const SpeculativeStats& sp = st.speculative; !sp.drafted.empty()) {  // --speculative-tokens
    int64_t drafted = 0, accepted = 0;
    for (size_t j = 0; j < sp.drafted.size(); ++j) drafted += sp.drafted[j], accepted += sp.accepted[j];
    gauge("dsinfer_spec_decode_num_verify_steps_total", "Per-sequence MTP verify steps",
          static_cast<double>(sp.verify_steps), "counter");
    gauge("dsinfer_spec_decode_num_draft_tokens_total", "MTP draft tokens proposed", static_cast<double>(drafted), "counter");
    gauge("dsinfer_spec_decode_num_accepted_tokens_total", "MTP draft tokens accepted", static_cast<double>(accepted),
          "counter");
    gauge("dsinfer_spec_decode_num_emitted_tokens_total", "Tokens emitted by verify steps (accepted drafts + 1 each)",
          static_cast<double>(sp.emitted), "counter");
    s += "# HELP dsinfer_spec_decode_num_accepted_tokens_per_pos_total Drafts accepted at each draft position\n"
         "# TYPE dsinfer_spec_decode_num_accepted_tokens_per_pos_total counter\n";
    for (size_t j = 0; j < sp.accepted.size(); ++j)
      s += "dsinfer_spec_decode_num_accepted_tokens_per_pos_total{" + l + ",position=\"" + std::to_string(j) + "\"} " +
           num(static_cast<double>(sp.accepted[j])) + "\n";
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    gauge("dsinfer_prompt_tokens_total", "Prompt tokens of finished requests", static_cast<double>(prompt_tokens_), "counter");
    gauge("dsinfer_generation_tokens_total", "Generated tokens of finished requests", static_cast<double>(generated_tokens_), "counter");
    s += "# HELP dsinfer_http_requests_total HTTP requests by status\n# TYPE dsinfer_http_requests_total counter\n";
    for (const auto& [code, n] : by_status_)
      s += "dsinfer_http_requests_total{" + l + ",status=\"" + std::to_string(code) + "\"} " + std::to_string(n) + "\n";
  }
  s += ttft.render("dsinfer_time_to_first_token_seconds", "Time to first token", l);
  s += itl.render("dsinfer_inter_token_latency_seconds", "Time between output tokens", l);
  s += e2e.render("dsinfer_e2e_request_latency_seconds", "End-to-end request latency", l);
  return s;
}

}  // namespace dsinfer::server
