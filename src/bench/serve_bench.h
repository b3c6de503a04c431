#pragma once
// Drives a running `dsinfer serve` (or any OpenAI-compatible server) with a
// fixed-seed mix of prompt and output lengths at several concurrencies and
// measures what clients see: requests/s, output tokens/s, time to first
// token and inter-token latency (p50/p99), and the prefix-cache hit rate
// (cached prompt tokens reported in usage over prompt tokens sent).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dsinfer::bench {

struct ServeBenchOptions {
  std::string url = "http://127.0.0.1:8000";
  std::string api_key, model;
  std::vector<int64_t> concurrency{1, 4, 16, 64};
  int64_t requests_per_level = 0;  // 0: 4 x concurrency (at least 8)
  std::vector<int64_t> prompt_lens{32, 128, 512}, output_lens{16, 64, 128};
  int64_t shared_prefix = 0;       // tokens of a system prompt every request starts with
  int64_t warmup = 1;              // untimed requests before each level (a server's steady state: warm caches)
  int64_t vocab_low = 1000, vocab_high = 100000;  // prompt ids drawn from [low, high)
  uint64_t seed = 0;
};

struct ServeBenchLevel {
  int64_t concurrency = 0, requests = 0, errors = 0;
  double seconds = 0, requests_per_s = 0, output_tokens_per_s = 0;
  int64_t prompt_tokens = 0, cached_prompt_tokens = 0, output_tokens = 0;
  double ttft_p50_ms = 0, ttft_p99_ms = 0, itl_p50_ms = 0, itl_p99_ms = 0;
  double prefix_hit_rate() const {
    return prompt_tokens > 0 ? static_cast<double>(cached_prompt_tokens) / static_cast<double>(prompt_tokens) : 0.0;
  }
};

std::vector<ServeBenchLevel> run_serve_bench(const ServeBenchOptions& options);
std::string serve_bench_table(const std::vector<ServeBenchLevel>& levels);
nlohmann::json serve_bench_json(const ServeBenchOptions& options, const std::vector<ServeBenchLevel>& levels);

}  // namespace dsinfer::bench
