#include "kernels/cpu/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "io/mapped_file.h"
#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/load_panels.h"
#include "kernels/cpu/mla_attention_cpu.h"
#include "kernels/cpu/pack_budget.h"
#include "kernels/cpu/router_top_k.h"
#include "kernels/cpu/row_kernel.h"

namespace dsinfer::cpu {
namespace {

class CpuBackend final : public Ops {
 public:
  const char* name() const override { return "cpu"; }

  void pack_weight(LinearWeight& w) override {
    if (w.packed || !load_panels_apply(w)) return;
    const uint64_t bytes = load_panels_bytes(w);
    if (!process_pack_budget().take(bytes)) return;
    auto panels = pack_load_panels(w);
    if (!panels) {
      process_pack_budget().give_back(bytes);
      return;
    }
    // The budget comes back when the last user of the copy lets it go (a
    // process may load and drop several models).
    struct Charged {
      std::shared_ptr<const void> panels;
      uint64_t bytes = 0;
      ~Charged() { process_pack_budget().give_back(bytes); }
    };
    auto charged = std::make_shared<Charged>();
    charged->panels = std::move(panels);
    charged->bytes = bytes;
    w.packed = std::shared_ptr<const void>(charged, charged->panels.get());
    MappedFile::drop_resident_pages(w.data, w.bytes());
  }
  void linear(const LinearWeight& w, const float* x, int64_t n_tokens, float* y) override {
    cpu::linear(w, x, n_tokens, y);
  }
  void linears_of_one_input(std::span<const LinearWeight* const> ws, const float* x, int64_t n_tokens,
                            std::span<float* const> ys) override {
    std::vector<cpu::LinearCall> calls;
    for (size_t i = 0; i < ws.size(); ++i) calls.push_back({ws[i], x, n_tokens, ys[i]});
    cpu::linear_many(calls);
  }

  void embed(const LinearWeight& table, std::span<const int32_t> ids, float* out) override {
    for (size_t i = 0; i < ids.size(); ++i) dequant_row(table, ids[i], out + static_cast<int64_t>(i) * table.cols);
  }

  void rms_norm(const float* x, int64_t n_rows, int64_t dim, int64_t ld, const float* weight, double eps,
                float* out) override {
    if (ld == dim) {
      cpu::rms_norm(x, weight, n_rows, dim, eps, out);
      return;
    }
    for (int64_t r = 0; r < n_rows; ++r) cpu::rms_norm(x + r * ld, weight, 1, dim, eps, out + r * ld);
  }

  void add(float* x, const float* y, int64_t n) override { add_inplace(x, y, n); }

  void rope(const RopeTable& t, float* x, int64_t n_rows, int64_t row_stride, int64_t vecs_per_row,
            int64_t vec_stride, const int64_t* positions) override {
    const int64_t half = t.dim / 2;
    std::vector<float> cs(static_cast<size_t>(2 * half));
    for (int64_t r = 0; r < n_rows; ++r) {
      const float p = static_cast<float>(positions[r]);
      for (int64_t i = 0; i < half; ++i) {
        const float angle = p * t.inv_freq[i];
        cs[2 * i] = std::cos(angle) * t.attention_factor;
        cs[2 * i + 1] = std::sin(angle) * t.attention_factor;
      }
      for (int64_t v = 0; v < vecs_per_row; ++v) {
        float* xv = x + r * row_stride + v * vec_stride;
        for (int64_t i = 0; i < half; ++i) {
          const float a = xv[2 * i], b = xv[2 * i + 1], c = cs[2 * i], s = cs[2 * i + 1];
          xv[2 * i] = a * c - b * s;
          xv[2 * i + 1] = b * c + a * s;
        }
      }
    }
  }

  void gated_mlp(const GatedMlpWeights& w, const float* x, int64_t n_tokens, float* out) override {
    const int64_t inter = w.gate.rows;
    std::vector<float> g(static_cast<size_t>(n_tokens * inter)), u(g.size());
    // gate and up in one parallel region.
    const cpu::LinearCall gate_up[] = {{&w.gate, x, n_tokens, g.data()}, {&w.up, x, n_tokens, u.data()}};
    cpu::linear_many(gate_up);
    silu_mul(g.data(), u.data(), n_tokens * inter, g.data());
    cpu::linear(w.down, g.data(), n_tokens, out);
  }

  RoutingResult route_top_k(const RouterSpec& spec, const float* logits, int64_t n_tokens,
                            std::span<const float> bias) override {
    return cpu::route_top_k(spec, logits, n_tokens, bias);
  }

  void routed_experts(std::span<const GatedMlpWeights> experts, const RoutingResult& route, const float* x,
                      int64_t n_tokens, int64_t H, int64_t chunk_tokens, float* out) override {
    const int64_t E = static_cast<int64_t>(experts.size());
    std::fill(out, out + n_tokens * H, 0.f);
    const int64_t chunk = chunk_tokens > 0 ? chunk_tokens : n_tokens;
    assigned_.resize(static_cast<size_t>(E));
    for (int64_t t0 = 0; t0 < n_tokens; t0 += chunk) {
      const int64_t t1 = std::min(n_tokens, t0 + chunk);
      // Group this chunk's (token, weight) pairs by expert.
      for (auto& a : assigned_) a.clear();
      for (int64_t t = t0; t < t1; ++t)
        for (int64_t k = 0; k < route.top_k; ++k)
          assigned_[route.experts[t * route.top_k + k]].emplace_back(t, route.weights[t * route.top_k + k]);
      // Every active expert's rows, gathered one after another: offset[e]
      // is expert e's first row in xe_ / ye_ (and in the gate/up buffers).
      offsets_.assign(static_cast<size_t>(E + 1), 0);
      for (int64_t e = 0; e < E; ++e) offsets_[e + 1] = offsets_[e] + static_cast<int64_t>(assigned_[e].size());
      const int64_t rows = offsets_[E];
      xe_.resize(static_cast<size_t>(rows * H));
      ye_.resize(static_cast<size_t>(rows * H));
      int64_t inter = 0;
      for (int64_t e = 0; e < E; ++e) {
        if (assigned_[e].empty()) continue;
        inter = std::max(inter, experts[e].gate.rows);
        for (size_t i = 0; i < assigned_[e].size(); ++i) {
          const int64_t t = assigned_[e][i].first;
          std::copy(x + t * H, x + (t + 1) * H, xe_.data() + (offsets_[e] + static_cast<int64_t>(i)) * H);
        }
      }
      gate_.resize(static_cast<size_t>(rows * inter));
      up_.resize(gate_.size());
      // All experts' gate and up projections in one parallel region, then
      // all down projections in another: two fork/joins per layer, not
      // three per expert, and the cores share out every expert's rows.
      calls_.clear();
      for (int64_t e = 0; e < E; ++e) {
        const int64_t n = offsets_[e + 1] - offsets_[e];
        if (n == 0) continue;
        const float* xin = xe_.data() + offsets_[e] * H;
        calls_.push_back({&experts[e].gate, xin, n, gate_.data() + offsets_[e] * inter});
        calls_.push_back({&experts[e].up, xin, n, up_.data() + offsets_[e] * inter});
      }
      cpu::linear_many(calls_);
      calls_.clear();
      for (int64_t e = 0; e < E; ++e) {
        const int64_t n = offsets_[e + 1] - offsets_[e];
        if (n == 0) continue;
        const int64_t ei = experts[e].gate.rows;
        float* g = gate_.data() + offsets_[e] * inter;
        silu_mul(g, up_.data() + offsets_[e] * inter, n * ei, g);
        calls_.push_back({&experts[e].down, g, n, ye_.data() + offsets_[e] * H});
      }
      cpu::linear_many(calls_);
      for (int64_t e = 0; e < E; ++e)
        for (size_t i = 0; i < assigned_[e].size(); ++i) {
          const auto [t, weight] = assigned_[e][i];
          axpy(weight, ye_.data() + (offsets_[e] + static_cast<int64_t>(i)) * H, out + t * H, H);
        }
    }
  }

  void mla_write_cache(std::span<const AttentionSeq> seqs, const float* kv, int64_t ld) override {
    cpu::mla_write_cache(seqs, kv, ld);
  }
  void mla_absorb_query(const MlaShape& s, const LinearWeight& kv_b, const float* q, int64_t n_tokens,
                        float* q_lat) override {
    cpu::mla_absorb_query(s, kv_b, q, n_tokens, q_lat);
  }
  void mla_decode_attention(const MlaShape& s, std::span<const AttentionSeq> seqs, const float* q_lat, const float* q,
                            int64_t n_tokens, float* lat_out) override {
    cpu::mla_decode_attention(s, seqs, q_lat, q, n_tokens, lat_out, mla_scratch_);
  }
  void mla_value_projection(const MlaShape& s, const LinearWeight& kv_b, const float* lat_out, int64_t n_tokens,
                            float* o) override {
    cpu::mla_value_projection(s, kv_b, lat_out, n_tokens, o);
  }
  void mla_prefill_attention(const MlaShape& s, const LinearWeight& kv_b, std::span<const AttentionSeq> seqs,
                             const float* q, float* o) override {
    cpu::mla_prefill_attention(s, kv_b, seqs, q, o, mla_scratch_);
  }

 private:
  MlaScratch mla_scratch_;
  std::vector<std::vector<std::pair<int64_t, float>>> assigned_;
  std::vector<float> xe_, ye_, gate_, up_;
  std::vector<int64_t> offsets_;
  std::vector<cpu::LinearCall> calls_;
};

}  // namespace

std::shared_ptr<Ops> make_cpu_backend() { return std::make_shared<CpuBackend>(); }

}  // namespace dsinfer::cpu
