#include "bench/serve_bench.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "io/error.h"

namespace dsinfer::bench {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0, Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(t - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

struct Planned {
  std::vector<int64_t> prompt;
  int64_t max_tokens = 0;
};

struct Measured {
  bool ok = false;
  double ttft_ms = 0;
  std::vector<double> itl_ms;
  int64_t tokens = 0, prompt_tokens = 0, cached = 0;
  std::string error;  // why a request failed, for the report
};

// Splits host and port out of http://host:port.
void parse_url(const std::string& url, std::string* host, int* port) {
  const std::string p = "http://";
  if (url.rfind(p, 0) != 0) throw Error("bench-serve: --url must start with http://, got '" + url + "'");
  std::string rest = url.substr(p.size());
  if (const size_t slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  const size_t colon = rest.rfind(':');
  *host = colon == std::string::npos ? rest : rest.substr(0, colon);
  *port = colon == std::string::npos ? 80 : std::stoi(rest.substr(colon + 1));
}

// One streamed completion; every SSE chunk with logprobs carries its tokens.
Measured one_request(const ServeBenchOptions& o, const std::string& host, int port, const Planned& r) {
  httplib::Client cli(host, port);
  cli.set_read_timeout(600, 0);
  httplib::Headers headers;
  if (!o.api_key.empty()) headers.emplace("Authorization", "Bearer " + o.api_key);
  nlohmann::json body = {{"prompt", r.prompt}, {"max_tokens", r.max_tokens}, {"temperature", 0},
                         {"stream", true},      {"ignore_eos", true},        {"logprobs", 0},
                         {"stream_options", {{"include_usage", true}}}};
  if (!o.model.empty()) body["model"] = o.model;
  Measured m;
  const auto t0 = Clock::now();
  auto last = t0;
  std::string buf;
  bool done = false;
  auto on_data = [&](const char* data, size_t n) {
    buf.append(data, n);
    size_t at;
    while ((at = buf.find("\n\n")) != std::string::npos) {
      const std::string ev = buf.substr(0, at);
      buf.erase(0, at + 2);
      if (ev.rfind("data: ", 0) != 0) continue;
      const std::string payload = ev.substr(6);
      if (payload == "[DONE]") {
        done = true;
        continue;
      }
      const auto j = nlohmann::json::parse(payload, nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("usage") && j["usage"].is_object()) {
        m.prompt_tokens = j["usage"].value("prompt_tokens", 0);
        if (j["usage"].contains("prompt_tokens_details"))
          m.cached = j["usage"]["prompt_tokens_details"].value("cached_tokens", 0);
      }
      if (!j.contains("choices") || j["choices"].empty()) continue;
      const auto& lp = j["choices"][0]["logprobs"];
      const int64_t k = lp.is_object() && lp.contains("tokens") ? static_cast<int64_t>(lp["tokens"].size()) : 0;
      if (k == 0) continue;
      const auto now = Clock::now();
      if (m.tokens == 0) m.ttft_ms = ms_since(t0, now);
      else m.itl_ms.push_back(ms_since(last, now) / static_cast<double>(k));
      last = now;
      m.tokens += k;
    }
    return true;
  };
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.headers = headers;
  req.headers.emplace("Content-Type", "application/json");
  req.body = body.dump();
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) { return on_data(data, n); };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const bool sent = cli.send(req, res, err);
  m.ok = sent && res.status == 200 && done;
  if (!sent) m.error = "connection: " + httplib::to_string(err) + " after " + std::to_string(ms_since(t0, Clock::now())) + " ms, " + std::to_string(m.tokens) + " tokens";
  else if (res.status != 200) m.error = "HTTP " + std::to_string(res.status) + ": " + res.body.substr(0, 200);
  else if (!done) m.error = "stream ended without [DONE]";
  return m;
}

}  // namespace

std::vector<ServeBenchLevel> run_serve_bench(const ServeBenchOptions& o) {
  std::string host;
  int port = 0;
  parse_url(o.url, &host, &port);
  std::mt19937_64 gen(o.seed);
  auto draw = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(gen() % static_cast<uint64_t>(hi - lo)); };
  std::vector<int64_t> prefix;
  for (int64_t i = 0; i < o.shared_prefix; ++i) prefix.push_back(draw(o.vocab_low, o.vocab_high));
  std::vector<ServeBenchLevel> levels;
  for (int64_t c : o.concurrency) {
    const int64_t n = o.requests_per_level > 0 ? o.requests_per_level : std::max<int64_t>(8, 4 * c);
    std::vector<Planned> plan(static_cast<size_t>(n));
    for (auto& p : plan) {
      p.prompt = prefix;
      const int64_t len = o.prompt_lens[gen() % o.prompt_lens.size()];
      for (int64_t i = 0; i < len; ++i) p.prompt.push_back(draw(o.vocab_low, o.vocab_high));
      p.max_tokens = o.output_lens[gen() % o.output_lens.size()];
    }
    // Untimed requests first (same shapes, the shared prefix included): what
    // is measured is a server in its steady state, not its first request.
    for (int64_t w = 0; w < o.warmup; ++w) {
      Planned p{prefix, 2};
      for (int64_t i = 0; i < o.prompt_lens.front(); ++i) p.prompt.push_back(draw(o.vocab_low, o.vocab_high));
      if (const Measured m = one_request(o, host, port, p); !m.ok)
        throw Error("bench-serve: the warm-up request failed: " + m.error);
    }
    std::vector<Measured> results(plan.size());
    std::atomic<size_t> next{0};
    const auto t0 = Clock::now();
    std::vector<std::thread> workers;
    for (int64_t w = 0; w < c; ++w)
      workers.emplace_back([&] {
        for (size_t i; (i = next.fetch_add(1)) < plan.size();) results[i] = one_request(o, host, port, plan[i]);
      });
    for (auto& t : workers) t.join();
    ServeBenchLevel L;
    L.concurrency = c;
    L.seconds = ms_since(t0, Clock::now()) / 1e3;
    std::vector<double> ttft, itl;
    for (const auto& m : results) {
      if (!m.ok) {
        if (L.errors++ == 0) std::fprintf(stderr, "bench-serve: first failed request: %s\n", m.error.c_str());
        continue;
      }
      ++L.requests;
      L.output_tokens += m.tokens;
      L.prompt_tokens += m.prompt_tokens;
      L.cached_prompt_tokens += m.cached;
      ttft.push_back(m.ttft_ms);
      itl.insert(itl.end(), m.itl_ms.begin(), m.itl_ms.end());
    }
    L.requests_per_s = static_cast<double>(L.requests) / L.seconds;
    L.output_tokens_per_s = static_cast<double>(L.output_tokens) / L.seconds;
    L.ttft_p50_ms = percentile(ttft, 50);
    L.ttft_p99_ms = percentile(ttft, 99);
    L.itl_p50_ms = percentile(itl, 50);
    L.itl_p99_ms = percentile(itl, 99);
    std::fprintf(stderr, "bench-serve: concurrency %lld: %lld requests in %.1f s\n", static_cast<long long>(c),
                 static_cast<long long>(L.requests), L.seconds);
    levels.push_back(L);
  }
  return levels;
}

std::string serve_bench_table(const std::vector<ServeBenchLevel>& levels) {
  std::string s =
      "concurrency requests errors   req/s  out tok/s  TTFT p50 ms  TTFT p99 ms  ITL p50 ms  ITL p99 ms  prefix hit\n";
  for (const auto& L : levels) {
    char b[256];
    std::snprintf(b, sizeof(b), "%11lld %8lld %6lld %7.2f %10.1f %12.1f %12.1f %11.2f %11.2f %10.1f%%\n",
                  static_cast<long long>(L.concurrency), static_cast<long long>(L.requests),
                  static_cast<long long>(L.errors), L.requests_per_s, L.output_tokens_per_s, L.ttft_p50_ms,
                  L.ttft_p99_ms, L.itl_p50_ms, L.itl_p99_ms, 100 * L.prefix_hit_rate());
    s += b;
  }
  return s;
}

nlohmann::json serve_bench_json(const ServeBenchOptions& o, const std::vector<ServeBenchLevel>& levels) {
  nlohmann::json out = {{"url", o.url}, {"seed", o.seed}, {"shared_prefix", o.shared_prefix},
                        {"prompt_lens", o.prompt_lens}, {"output_lens", o.output_lens}};
  out["levels"] = nlohmann::json::array();
  for (const auto& L : levels)
    out["levels"].push_back({{"concurrency", L.concurrency}, {"requests", L.requests}, {"errors", L.errors},
                             {"seconds", L.seconds}, {"requests_per_s", L.requests_per_s},
                             {"output_tokens_per_s", L.output_tokens_per_s}, {"ttft_p50_ms", L.ttft_p50_ms},
                             {"ttft_p99_ms", L.ttft_p99_ms}, {"itl_p50_ms", L.itl_p50_ms}, {"itl_p99_ms", L.itl_p99_ms},
                             {"prompt_tokens", L.prompt_tokens}, {"cached_prompt_tokens", L.cached_prompt_tokens},
                             {"prefix_hit_rate", L.prefix_hit_rate()}});
  return out;
}

}  // namespace dsinfer::bench
