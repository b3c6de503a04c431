#include "support/reference_model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>

#include "io/safetensors.h"

namespace dsinfer::test {
namespace {
using Mat = std::vector<double>;  // row-major

double fp8(uint8_t v) {
  const int s = v >> 7, e = (v >> 3) & 15, m = v & 7;
  const double mag = e == 0 ? std::ldexp(m, -9) : std::ldexp(8 + m, e - 10);
  return s ? -mag : mag;
}
double bf16(uint16_t v) {
  uint32_t b = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

struct Weights {
  Checkpoint ck;
  nlohmann::json cfg;
  explicit Weights(const std::string& dir) : ck(dir) {
    std::ifstream in(dir + "/config.json");
    cfg = nlohmann::json::parse(in);
  }
  // Dequantized [rows, cols] (or [n] for vectors) as float64.
  Mat get(const std::string& name) const {
    const TensorView& t = ck.get(name);
    Mat out(static_cast<size_t>(t.numel()));
    if (t.dtype == DType::F8_E4M3) {
      const TensorView& s = ck.get(name + "_scale_inv");
      const int64_t rows = t.shape[0], cols = t.shape[1], sc = s.shape[1];
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          out[r * cols + c] = static_cast<double>(static_cast<float>(fp8(t.data[r * cols + c])) *
                                                  s.as<float>()[(r / 128) * sc + c / 128]);
    } else if (t.dtype == DType::BF16) {
      for (size_t i = 0; i < out.size(); ++i) out[i] = bf16(t.as<uint16_t>()[i]);
    } else if (t.dtype == DType::F32) {
      for (size_t i = 0; i < out.size(); ++i) out[i] = t.as<float>()[i];
    } else {
      throw std::runtime_error("reference: unsupported dtype for " + name);
    }
    return out;
  }
};

// y[n, out] = x[n, in] W^T
Mat linear(const Mat& x, const Mat& w, int64_t n, int64_t in) {
  const int64_t out = static_cast<int64_t>(w.size()) / in;
  Mat y(static_cast<size_t>(n * out), 0.0);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t o = 0; o < out; ++o) {
      double s = 0;
      for (int64_t k = 0; k < in; ++k) s += x[t * in + k] * w[o * in + k];
      y[t * out + o] = s;
    }
  return y;
}

Mat rmsnorm(const Mat& x, const Mat& w, int64_t n, int64_t d, double eps) {
  Mat y(x.size());
  for (int64_t t = 0; t < n; ++t) {
    double ss = 0;
    for (int64_t k = 0; k < d; ++k) ss += x[t * d + k] * x[t * d + k];
    const double inv = 1.0 / std::sqrt(ss / d + eps);
    for (int64_t k = 0; k < d; ++k) y[t * d + k] = w[k] * x[t * d + k] * inv;
  }
  return y;
}

Mat mlp(const Weights& W, const std::string& p, const Mat& x, int64_t n, int64_t hidden) {
  Mat g = linear(x, W.get(p + ".gate_proj.weight"), n, hidden);
  Mat u = linear(x, W.get(p + ".up_proj.weight"), n, hidden);
  const int64_t inter = static_cast<int64_t>(g.size()) / n;
  for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1 + std::exp(-g[i])) * u[i];
  return linear(g, W.get(p + ".down_proj.weight"), n, inter);
}

double get_mscale(double scale, double m) { return scale <= 1 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; }

}  // namespace

std::vector<double> reference_logits(const std::string& dir, const std::vector<int32_t>& ids) {
  const Weights W(dir);
  const auto& c = W.cfg;
  const int64_t n = static_cast<int64_t>(ids.size());
  const int64_t H = c["hidden_size"], heads = c["num_attention_heads"];
  const int64_t nope = c["qk_nope_head_dim"], rope = c["qk_rope_head_dim"], vd = c["v_head_dim"];
  const int64_t rank = c["kv_lora_rank"], qk = nope + rope;
  const double eps = c.value("rms_norm_eps", 1e-6);
  const bool q_lora = c.contains("q_lora_rank") && !c["q_lora_rank"].is_null();

  // RoPE tables (HF: cos/sin over cat(freqs, freqs), scaled by the YaRN mscale ratio).
  const double base = c.value("rope_theta", 10000.0);
  std::vector<double> inv_freq(static_cast<size_t>(rope / 2));
  for (int64_t i = 0; i < rope / 2; ++i) inv_freq[i] = 1.0 / std::pow(base, 2.0 * i / rope);
  double softmax_scale = 1.0 / std::sqrt(static_cast<double>(qk)), cos_scale = 1.0;
  if (c.contains("rope_scaling") && !c["rope_scaling"].is_null()) {
    const auto& rs = c["rope_scaling"];
    const double f = rs["factor"], bf = rs.value("beta_fast", 32.0), bs = rs.value("beta_slow", 1.0);
    const double m = rs.value("mscale", 1.0), mad = rs.value("mscale_all_dim", 0.0);
    const double omax = rs.value("original_max_position_embeddings", 4096.0);
    auto cdim = [&](double rot) { return rope * std::log(omax / (rot * 2 * M_PI)) / (2 * std::log(base)); };
    const double lo = std::max(std::floor(cdim(bf)), 0.0);
    double hi = std::min(std::ceil(cdim(bs)), static_cast<double>(rope - 1));
    if (lo == hi) hi += 0.001;
    for (int64_t i = 0; i < rope / 2; ++i) {
      const double ramp = std::clamp((i - lo) / (hi - lo), 0.0, 1.0);
      const double keep = 1.0 - ramp;  // extrapolation weight
      inv_freq[i] = inv_freq[i] / f * (1 - keep) + inv_freq[i] * keep;
    }
    cos_scale = get_mscale(f, m) / get_mscale(f, mad);
    if (mad != 0.0) softmax_scale *= get_mscale(f, mad) * get_mscale(f, mad);
  }
  // HF: x.view(d/2, 2).transpose -> [x0, x2, ..., x1, x3, ...]; x*cos + rotate_half(x)*sin.
  auto apply_rope = [&](double* x, int64_t pos) {
    std::vector<double> y(static_cast<size_t>(rope)), out(static_cast<size_t>(rope));
    for (int64_t i = 0; i < rope / 2; ++i) {
      y[i] = x[2 * i];
      y[i + rope / 2] = x[2 * i + 1];
    }
    for (int64_t j = 0; j < rope; ++j) {
      const double ang = pos * inv_freq[j % (rope / 2)];
      const double rot = j < rope / 2 ? -y[j + rope / 2] : y[j - rope / 2];
      out[j] = y[j] * std::cos(ang) * cos_scale + rot * std::sin(ang) * cos_scale;
    }
    for (int64_t j = 0; j < rope; ++j) x[j] = out[j];
  };

  Mat embed = W.get("model.embed_tokens.weight");
  Mat x(static_cast<size_t>(n * H));
  for (int64_t t = 0; t < n; ++t) std::copy(embed.begin() + ids[t] * H, embed.begin() + (ids[t] + 1) * H, x.begin() + t * H);

  const int64_t layers = c["num_hidden_layers"];
  const int64_t first_dense = c.value("first_k_dense_replace", 0), freq = c.value("moe_layer_freq", 1);
  const int64_t E = c.value("n_routed_experts", 0);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l);
    Mat h = rmsnorm(x, W.get(p + ".input_layernorm.weight"), n, H, eps);
    Mat q;
    if (q_lora) {
      const int64_t qr = c["q_lora_rank"];
      Mat qa = rmsnorm(linear(h, W.get(p + ".self_attn.q_a_proj.weight"), n, H),
                       W.get(p + ".self_attn.q_a_layernorm.weight"), n, qr, eps);
      q = linear(qa, W.get(p + ".self_attn.q_b_proj.weight"), n, qr);
    } else {
      q = linear(h, W.get(p + ".self_attn.q_proj.weight"), n, H);
    }
    Mat kva = linear(h, W.get(p + ".self_attn.kv_a_proj_with_mqa.weight"), n, H);
    Mat ckv(static_cast<size_t>(n * rank)), kpe(static_cast<size_t>(n * rope));
    for (int64_t t = 0; t < n; ++t) {
      std::copy(kva.begin() + t * (rank + rope), kva.begin() + t * (rank + rope) + rank, ckv.begin() + t * rank);
      std::copy(kva.begin() + t * (rank + rope) + rank, kva.begin() + (t + 1) * (rank + rope), kpe.begin() + t * rope);
      apply_rope(&kpe[t * rope], t);
      for (int64_t hd = 0; hd < heads; ++hd) apply_rope(&q[t * heads * qk + hd * qk + nope], t);
    }
    Mat kv = linear(rmsnorm(ckv, W.get(p + ".self_attn.kv_a_layernorm.weight"), n, rank, eps),
                    W.get(p + ".self_attn.kv_b_proj.weight"), n, rank);
    Mat o(static_cast<size_t>(n * heads * vd), 0.0);
    for (int64_t hd = 0; hd < heads; ++hd)
      for (int64_t i = 0; i < n; ++i) {
        std::vector<double> s(static_cast<size_t>(i + 1));
        double mx = -1e300;
        for (int64_t j = 0; j <= i; ++j) {
          double d = 0;
          for (int64_t k = 0; k < nope; ++k) d += q[i * heads * qk + hd * qk + k] * kv[j * heads * (nope + vd) + hd * (nope + vd) + k];
          for (int64_t k = 0; k < rope; ++k) d += q[i * heads * qk + hd * qk + nope + k] * kpe[j * rope + k];
          s[j] = d * softmax_scale;
          mx = std::max(mx, s[j]);
        }
        double z = 0;
        for (auto& v : s) z += (v = std::exp(v - mx));
        for (int64_t j = 0; j <= i; ++j)
          for (int64_t k = 0; k < vd; ++k)
            o[i * heads * vd + hd * vd + k] += s[j] / z * kv[j * heads * (nope + vd) + hd * (nope + vd) + nope + k];
      }
    Mat attn = linear(o, W.get(p + ".self_attn.o_proj.weight"), n, heads * vd);
    for (size_t i = 0; i < x.size(); ++i) x[i] += attn[i];

    h = rmsnorm(x, W.get(p + ".post_attention_layernorm.weight"), n, H, eps);
    Mat y;
    if (E > 0 && l >= first_dense && l % freq == 0) {
      const int64_t K = c["num_experts_per_tok"], G = c.value("n_group", 1), TG = c.value("topk_group", 1);
      const std::string method = c.value("topk_method", std::string("noaux_tc"));
      const std::string scoring = c.value("scoring_func", std::string("sigmoid"));
      Mat logits = linear(h, W.get(p + ".mlp.gate.weight"), n, H);
      Mat bias = method == "noaux_tc" ? W.get(p + ".mlp.gate.e_score_correction_bias") : Mat(E, 0.0);
      y.assign(static_cast<size_t>(n * H), 0.0);
      for (int64_t t = 0; t < n; ++t) {
        std::vector<double> sc(static_cast<size_t>(E)), ch(static_cast<size_t>(E));
        if (scoring == "softmax") {
          double mx = -1e300, z = 0;
          for (int64_t e = 0; e < E; ++e) mx = std::max(mx, logits[t * E + e]);
          for (int64_t e = 0; e < E; ++e) z += (sc[e] = std::exp(logits[t * E + e] - mx));
          for (auto& v : sc) v /= z;
        } else {
          for (int64_t e = 0; e < E; ++e) sc[e] = 1 / (1 + std::exp(-logits[t * E + e]));
        }
        for (int64_t e = 0; e < E; ++e) ch[e] = sc[e] + bias[e];
        if (method != "greedy" && G > 1) {
          const int64_t per = E / G;
          std::vector<std::pair<double, int64_t>> gs;
          for (int64_t g = 0; g < G; ++g) {
            std::vector<double> m(ch.begin() + g * per, ch.begin() + (g + 1) * per);
            std::sort(m.rbegin(), m.rend());
            gs.push_back({method == "noaux_tc" ? m[0] + m[1] : m[0], g});
          }
          std::sort(gs.begin(), gs.end(), [](auto a, auto b) { return a.first > b.first; });
          std::vector<bool> keep(static_cast<size_t>(G), false);
          for (int64_t k = 0; k < TG; ++k) keep[gs[k].second] = true;
          for (int64_t e = 0; e < E; ++e)
            if (!keep[e / per]) ch[e] = 0.0;
        }
        std::vector<int64_t> order(static_cast<size_t>(E));
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return ch[a] > ch[b]; });
        double sum = 0;
        for (int64_t k = 0; k < K; ++k) sum += sc[order[k]];
        Mat xt(h.begin() + t * H, h.begin() + (t + 1) * H);
        for (int64_t k = 0; k < K; ++k) {
          double wgt = sc[order[k]];
          if (c.value("norm_topk_prob", false) && K > 1) wgt /= (sum + 1e-20);
          wgt *= c.value("routed_scaling_factor", 1.0);
          Mat ye = mlp(W, p + ".mlp.experts." + std::to_string(order[k]), xt, 1, H);
          for (int64_t d = 0; d < H; ++d) y[t * H + d] += wgt * ye[d];
        }
      }
      if (c.value("n_shared_experts", 0) > 0) {
        Mat s = mlp(W, p + ".mlp.shared_experts", h, n, H);
        for (size_t i = 0; i < y.size(); ++i) y[i] += s[i];
      }
    } else {
      y = mlp(W, p + ".mlp", h, n, H);
    }
    for (size_t i = 0; i < x.size(); ++i) x[i] += y[i];
  }
  Mat hn = rmsnorm(x, W.get("model.norm.weight"), n, H, eps);
  return linear(hn, W.get("lm_head.weight"), n, H);
}

}  // namespace dsinfer::test
