// bind_weights maps every schema entry onto ModelWeights; experts filtered
// out of the schema stay empty (data == nullptr) at their expert id.
#include "model/bind_weights.h"

#include <gtest/gtest.h>

#include <set>

#include "support/test_support.h"

namespace dsinfer {
namespace {

TEST(BindWeights, FilteredExpertsStayEmptyAtTheirId) {
  const ModelConfig c = load_model_config(test::data_path("deepseek-r1-tiny"));
  auto keep = [](int64_t, int64_t e) { return e % 4 == 1; };
  const CheckpointSchema s = checkpoint_schema(c, {.include_mtp = false, .expert_filter = keep});
  static const char stand_in = 0;  // any non-null address marks a bound weight
  std::set<std::string> bound;
  WeightSource src;
  src.linear = [&](const LinearSpec& spec) {
    bound.insert(spec.weight_name());
    LinearWeight w;
    w.name = spec.weight_name();
    w.rows = spec.rows;
    w.cols = spec.cols;
    w.data = &stand_in;
    return w;
  };
  src.vector = [](const VectorSpec& spec) { return std::vector<float>(static_cast<size_t>(spec.n), 1.f); };
  const ModelWeights w = bind_weights(s, src);

  ASSERT_EQ(w.layers.size(), static_cast<size_t>(c.num_hidden_layers));
  EXPECT_EQ(w.embed_tokens.name, "model.embed_tokens.weight");
  EXPECT_EQ(w.lm_head.name, "lm_head.weight");
  EXPECT_EQ(w.final_norm.size(), static_cast<size_t>(c.hidden_size));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const LayerWeights& L = w.layers[static_cast<size_t>(i)];
    ASSERT_EQ(L.moe.has_value(), c.is_moe_layer(i));
    EXPECT_EQ(L.dense_mlp.has_value(), !c.is_moe_layer(i));
    EXPECT_EQ(L.attn.kv_b_proj.name, "model.layers." + std::to_string(i) + ".self_attn.kv_b_proj.weight");
    if (!L.moe) continue;
    ASSERT_EQ(L.moe->experts.size(), static_cast<size_t>(c.n_routed_experts));
    EXPECT_EQ(L.moe->score_bias.size(), static_cast<size_t>(c.n_routed_experts));
    ASSERT_TRUE(L.moe->shared);
    for (int64_t e = 0; e < c.n_routed_experts; ++e) {
      const MlpWeights& m = L.moe->experts[static_cast<size_t>(e)];
      const std::string name =
          "model.layers." + std::to_string(i) + ".mlp.experts." + std::to_string(e) + ".up_proj.weight";
      if (keep(i, e)) {
        EXPECT_EQ(m.up.name, name);
        EXPECT_NE(m.down.data, nullptr);
      } else {
        EXPECT_EQ(m.gate.data, nullptr);
        EXPECT_EQ(m.up.data, nullptr);
        EXPECT_EQ(m.down.data, nullptr);
        EXPECT_FALSE(bound.count(name));
      }
    }
  }
}

TEST(BindWeights, WithoutLmHeadTheHeadIsTheEmbedding) {
  const ModelConfig c = load_model_config(test::data_path("kimi-k2-tiny"));
  CheckpointSchema s = checkpoint_schema(c, {.include_mtp = false});
  s.lm_head.reset();
  WeightSource src;
  src.linear = [](const LinearSpec& spec) {
    LinearWeight w;
    w.name = spec.weight_name();
    return w;
  };
  src.vector = [](const VectorSpec& spec) { return std::vector<float>(static_cast<size_t>(spec.n)); };
  EXPECT_EQ(bind_weights(s, src).lm_head.name, "model.embed_tokens.weight");
}

}  // namespace
}  // namespace dsinfer
