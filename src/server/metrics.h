#pragma once
// Prometheus text-format metrics of the server: request counters, token
// counters, latency histograms (time to first token, inter-token latency,
// end-to-end), plus the scheduler's gauges (running / waiting requests, KV
// pages, prefix-cache hit rate) filled in at scrape time.
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/scheduler.h"

namespace dsinfer::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double v);
  std::string render(const std::string& name, const std::string& help, const std::string& labels) const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t n_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();
  void request_done(int status);
  void tokens(int64_t prompt, int64_t generated);
  Histogram ttft, itl, e2e;
  std::string render(const SchedulerStats& s, const std::string& model) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<int, uint64_t>> by_status_;
  uint64_t prompt_tokens_ = 0, generated_tokens_ = 0;
};

}  // namespace dsinfer::server
