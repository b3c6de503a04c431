// The benchmark's in-memory model: every decoder layer of the schema in the
// requested stored format (W8A8 keeps kv_b_proj, router and lm_head bf16; FP8
// keeps router and lm_head bf16), no embedding, identity norms, zero bias.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/cpu/cpu_backend.h"
#include "model/deepseek_model.h"
#include "bench/synthetic_model.h"

namespace dsinfer::bench {
namespace {

void expect_linear(const LinearWeight& w, WeightFormat f, int64_t rows, int64_t cols) {
  EXPECT_EQ(w.format, f) << w.name;
  EXPECT_EQ(w.rows, rows) << w.name;
  EXPECT_EQ(w.cols, cols) << w.name;
  EXPECT_NE(w.data, nullptr) << w.name;
  EXPECT_EQ(w.scale != nullptr, f == WeightFormat::Int8Channel || f == WeightFormat::Fp8Block) << w.name;
}

class SyntheticWeightsTest : public ::testing::TestWithParam<BenchWeights> {};

TEST_P(SyntheticWeightsTest, FormatsAndShapesFollowTheSchema) {
  const BenchWeights format = GetParam();
  auto cfg = reference_config("tiny", 2, 0);
  cfg["first_k_dense_replace"] = 1;  // one dense layer too
  const auto m = make_synthetic_weights(cfg, format, 5);
  const ModelConfig& c = m->config;
  const WeightFormat main = format == BenchWeights::W8A8   ? WeightFormat::Int8Channel
                            : format == BenchWeights::BF16 ? WeightFormat::BF16
                                                           : WeightFormat::Fp8Block;
  const WeightFormat kvb = format == BenchWeights::W8A8 ? WeightFormat::BF16 : main;
  const int64_t H = c.hidden_size, heads = c.num_attention_heads;

  EXPECT_EQ(m->weights.embed_tokens.data, nullptr);
  EXPECT_EQ(m->weights.final_norm, std::vector<float>(static_cast<size_t>(H), 1.f));
  expect_linear(m->weights.lm_head, WeightFormat::BF16, c.vocab_size, H);
  ASSERT_EQ(m->weights.layers.size(), 2u);
  EXPECT_GT(m->weight_bytes, 0u);
  for (size_t i = 0; i < 2; ++i) {
    const LayerWeights& L = m->weights.layers[i];
    EXPECT_EQ(L.input_layernorm, std::vector<float>(static_cast<size_t>(H), 1.f));
    const AttentionWeights& a = L.attn;
    ASSERT_TRUE(a.q_a_proj);
    expect_linear(*a.q_a_proj, main, *c.q_lora_rank, H);
    expect_linear(a.q_b_proj, main, heads * c.qk_head_dim(), *c.q_lora_rank);
    expect_linear(a.kv_a_proj_with_mqa, main, c.kv_lora_rank + c.qk_rope_head_dim, H);
    expect_linear(a.kv_b_proj, kvb, heads * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank);
    expect_linear(a.o_proj, main, H, heads * c.v_head_dim);
    if (i == 0) {
      ASSERT_TRUE(L.dense_mlp);
      expect_linear(L.dense_mlp->down, main, H, c.intermediate_size);
      continue;
    }
    ASSERT_TRUE(L.moe);
    expect_linear(L.moe->router, WeightFormat::BF16, c.n_routed_experts, H);
    EXPECT_EQ(L.moe->score_bias, std::vector<float>(static_cast<size_t>(c.n_routed_experts), 0.f));
    ASSERT_EQ(L.moe->experts.size(), static_cast<size_t>(c.n_routed_experts));
    for (const auto& e : L.moe->experts) {
      expect_linear(e.gate, main, c.moe_intermediate_size, H);
      expect_linear(e.down, main, H, c.moe_intermediate_size);
    }
    ASSERT_TRUE(L.moe->shared);
    expect_linear(L.moe->shared->up, main, c.moe_intermediate_size * c.n_shared_experts, H);
  }
}

// The benchmark runs these weights through the model's own decoder loop.
TEST_P(SyntheticWeightsTest, RunThroughTheModelsForward) {
  std::shared_ptr<SyntheticWeights> w = make_synthetic_weights(reference_config("tiny", 2, 0), GetParam(), 5);
  const DeepseekModel model(w->config, w->weights, w, cpu::make_cpu_backend());
  PagedLatentCache cache = model.make_cache(16, 4);
  const SequenceId s = cache.add_sequence();
  cache.reserve(s, 3);
  const std::vector<int32_t> ids{1, 2, 3};
  const int64_t H = w->config.hidden_size;
  std::vector<float> hidden(static_cast<size_t>(3 * H));
  for (size_t i = 0; i < hidden.size(); ++i) hidden[i] = static_cast<float>((i * 37) % 101) / 101.f - 0.5f;
  ForwardOptions o;
  o.input_hidden = hidden.data();
  const BatchEntry e{s, ids, true};
  const auto logits = model.forward(std::span<const BatchEntry>(&e, 1), cache, o);
  ASSERT_EQ(logits.size(), static_cast<size_t>(3 * w->config.vocab_size));
  for (float v : logits) ASSERT_TRUE(std::isfinite(v));
  EXPECT_NE(logits[0], logits[static_cast<size_t>(w->config.vocab_size)]);  // positions differ
  EXPECT_EQ(cache.length(s), 3);
}

INSTANTIATE_TEST_SUITE_P(Formats, SyntheticWeightsTest,
                         ::testing::Values(BenchWeights::W8A8, BenchWeights::BF16, BenchWeights::FP8),
                         [](const auto& info) { return std::string(weights_label(info.param)); });

}  // namespace
}  // namespace dsinfer::bench
