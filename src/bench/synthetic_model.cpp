#include "bench/synthetic_model.h"

#include <omp.h>

#include <cmath>
#include <cstring>

#include "convert/conversion_plan.h"
#include "io/checkpoint_schema.h"
#include "io/error.h"
#include "io/released_config.h"
#include "model/bind_weights.h"

namespace dsinfer::bench {
namespace {

// xorshift64*, one independent stream per thread and chunk: fast enough to fill
// gigabytes in a few seconds.
uint64_t mix(uint64_t& s) {
  s ^= s >> 12;
  s ^= s << 25;
  s ^= s >> 27;
  return s * 2685821657736338717ull;
}

template <class Gen>
void parallel_fill(uint8_t* p, size_t n, uint64_t seed, Gen&& gen) {
  constexpr size_t kChunk = 1 << 20;
  const int64_t chunks = static_cast<int64_t>((n + kChunk - 1) / kChunk);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(c) * 0xBF58476D1CE4E5B9ull + 1;
    const size_t b = static_cast<size_t>(c) * kChunk, e = std::min(n, b + kChunk);
    for (size_t i = b; i < e; i += 8) {
      uint64_t v = gen(mix(s));
      std::memcpy(p + i, &v, std::min<size_t>(8, e - i));
    }
  }
}

class Builder {
 public:
  Builder(SyntheticWeights& m, uint64_t seed) : m_(m), seed_(seed) {}

  LinearWeight linear(const LinearSpec& spec, WeightFormat f, int64_t block_rows, int64_t block_cols) {
    const int64_t rows = spec.rows, cols = spec.cols;
    LinearWeight w;
    w.name = spec.weight_name();
    w.rows = rows;
    w.cols = cols;
    w.format = f;
    const size_t n = static_cast<size_t>(rows * cols);
    const double inv_sqrt = 1.0 / std::sqrt(static_cast<double>(cols));
    switch (f) {
      case WeightFormat::Int8Channel: {
        // uniform int8 in [-127, 127] (0x80 mapped away); per-row scale ~1/sqrt(cols)
        uint8_t* d = alloc(n);
        parallel_fill(d, n, ++seed_, [](uint64_t v) {
          const uint64_t is80 = (v & 0x8080808080808080ull) & ~(((v & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full));
          return v | (is80 >> 7);
        });
        float* s = reinterpret_cast<float*>(alloc(static_cast<size_t>(rows) * 4));
        for (int64_t r = 0; r < rows; ++r) s[r] = static_cast<float>(1.7 * inv_sqrt / 127.0);
        w.data = d;
        w.scale = s;
        break;
      }
      case WeightFormat::BF16: {
        // sign, exponent 2^-4..2^-7 relative to 1/sqrt(cols), random 7-bit mantissa
        uint8_t* d = alloc(n * 2);
        const int e0 = 127 + static_cast<int>(std::floor(std::log2(inv_sqrt)));
        parallel_fill(d, n * 2, ++seed_, [e0](uint64_t v) {
          uint64_t out = 0;
          for (int i = 0; i < 4; ++i) {
            const uint64_t r = v >> (16 * i);
            const uint64_t h = ((r & 0x8000) | (static_cast<uint64_t>(e0 - static_cast<int>((r >> 7) & 3)) << 7) |
                                (r & 0x7f));
            out |= h << (16 * i);
          }
          return out;
        });
        w.data = d;
        break;
      }
      case WeightFormat::Fp8Block: {
        // random e4m3 codes without the two NaN codes; block scale keeps |w| ~ 1/sqrt(cols)
        uint8_t* d = alloc(n);
        parallel_fill(d, n, ++seed_, [](uint64_t v) {
          const uint64_t low7 = v & 0x7f7f7f7f7f7f7f7full;
          const uint64_t is_nan = ~((low7 ^ 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full) & 0x8080808080808080ull;
          return v ^ (is_nan >> 7);
        });
        w.block_rows = block_rows;
        w.block_cols = block_cols;
        const int64_t sr = (rows + block_rows - 1) / block_rows, sc = (cols + block_cols - 1) / block_cols;
        float* s = reinterpret_cast<float*>(alloc(static_cast<size_t>(sr * sc) * 4));
        for (int64_t i = 0; i < sr * sc; ++i) s[i] = static_cast<float>(inv_sqrt / 64.0);
        w.data = d;
        w.scale = s;
        break;
      }
      case WeightFormat::F32:
        throw Error("synthetic F32 weights are not supported");
    }
    m_.weight_bytes += w.bytes();
    return w;
  }

 private:
  uint8_t* alloc(size_t n) {
    m_.storage.emplace_back(new uint8_t[(n + 63) / 64 * 64 + 64]);
    return m_.storage.back().get();
  }
  SyntheticWeights& m_;
  uint64_t seed_;
};

}  // namespace

const char* weights_label(BenchWeights w) {
  switch (w) {
    case BenchWeights::W8A8: return "w8a8";
    case BenchWeights::BF16: return "bf16";
    case BenchWeights::FP8: return "fp8";
  }
  return "?";
}

nlohmann::json reference_config(const std::string& kind, int64_t layers, int64_t experts) {
  // The released configs, with only the layer count changed: every layer is
  // a MoE layer (as 58 of R1's 61 are) and the MTP layer is left out.
  nlohmann::json c = released_config(kind == "k2" ? "kimi-k2" : "deepseek-r1");
  c.update({{"num_hidden_layers", layers}, {"first_k_dense_replace", 0}, {"num_nextn_predict_layers", 0}});
  if (kind == "tiny") {  // R1-shaped but small: smoke tests of the benchmark itself
    c.update({{"vocab_size", 1000}, {"hidden_size", 256}, {"intermediate_size", 512}, {"moe_intermediate_size", 128},
              {"num_attention_heads", 4}, {"num_key_value_heads", 4}, {"q_lora_rank", 64}, {"kv_lora_rank", 64},
              {"qk_nope_head_dim", 32}, {"qk_rope_head_dim", 16}, {"v_head_dim", 32}, {"n_routed_experts", 8},
              {"num_experts_per_tok", 2}, {"n_group", 1}, {"topk_group", 1}});
  } else if (kind != "r1" && kind != "k2") {
    throw Error("--synthetic: unknown model '" + kind + "' (expected r1, k2 or tiny)");
  }
  if (experts > 0) {
    c["n_routed_experts"] = experts;
    const int64_t groups = c["n_group"], topk_group = c["topk_group"], topk = c["num_experts_per_tok"];
    // Keep group-limited routing only where the smaller pool still allows top-k.
    if (experts % groups != 0 || experts / groups * topk_group < topk) {
      c["n_group"] = 1;
      c["topk_group"] = 1;
    }
  }
  return c;
}

std::unique_ptr<SyntheticWeights> make_synthetic_weights(const nlohmann::json& json, BenchWeights format,
                                                         uint64_t seed) {
  auto m = std::make_unique<SyntheticWeights>();
  m->config = parse_model_config(json.dump(), "synthetic " + std::string(json["model_type"]));
  // The benchmark feeds hidden states: no embedding; MTP is not benchmarked.
  const CheckpointSchema schema = checkpoint_schema(m->config, {.include_mtp = false, .include_embedding = false});
  Builder b(*m, seed);
  const WeightFormat main = format == BenchWeights::W8A8   ? WeightFormat::Int8Channel
                            : format == BenchWeights::BF16 ? WeightFormat::BF16
                                                           : WeightFormat::Fp8Block;
  WeightSource source;
  source.linear = [&](const LinearSpec& s) {
    // bf16 where the release keeps bf16 (router, lm_head), and under W8A8
    // where `dsinfer convert` keeps bf16 (kv_b_proj).
    const bool bf16 =
        s.role == LinearRole::Bf16Matrix || (format == BenchWeights::W8A8 && convert::kept_in_bf16(s.prefix));
    return b.linear(s, bf16 ? WeightFormat::BF16 : main, schema.block_rows, schema.block_cols);
  };
  source.vector = [](const VectorSpec& s) {
    // Identity norms, no routing bias, unit latent scale.
    return std::vector<float>(static_cast<size_t>(s.n), s.role == VectorRole::RouterBias ? 0.f : 1.f);
  };
  m->weights = bind_weights(schema, source);
  m->weights.bytes = m->weight_bytes;
  return m;
}

}  // namespace dsinfer::bench
