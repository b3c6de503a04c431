// Checkpoints the engine has never seen: random FP8 checkpoints of other
// dimensions (8 expert groups, mscale != mscale_all_dim, partial 128-blocks,
// no q_lora, softmax/greedy routing, several dense layers) checked against
// an independent float64 re-statement of the reference forward pass, plus
// the cache and batching invariants.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "io/synthetic_checkpoint.h"
#include "runtime/generation.h"
#include "runtime/load_model.h"
#include "support/reserved_forward.h"
#include "support/golden.h"
#include "support/reference_model.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {

nlohmann::json v3_variant() {
  return {{"architectures", {"DeepseekV3ForCausalLM"}},
          {"model_type", "deepseek_v3"},
          {"vocab_size", 700},
          {"hidden_size", 200},
          {"intermediate_size", 328},
          {"moe_intermediate_size", 72},
          {"num_hidden_layers", 4},
          {"first_k_dense_replace", 2},
          {"moe_layer_freq", 1},
          {"num_nextn_predict_layers", 1},
          {"num_attention_heads", 6},
          {"num_key_value_heads", 6},
          {"q_lora_rank", 136},
          {"kv_lora_rank", 160},
          {"qk_nope_head_dim", 24},
          {"qk_rope_head_dim", 8},
          {"v_head_dim", 20},
          {"n_routed_experts", 32},
          {"num_experts_per_tok", 6},
          {"n_group", 8},
          {"topk_group", 3},
          {"n_shared_experts", 2},
          {"routed_scaling_factor", 1.7},
          {"norm_topk_prob", true},
          {"scoring_func", "sigmoid"},
          {"topk_method", "noaux_tc"},
          {"rms_norm_eps", 1e-6},
          {"rope_theta", 20000.0},
          {"max_position_embeddings", 65536},
          {"rope_scaling",
           {{"type", "yarn"},
            {"factor", 16.0},
            {"beta_fast", 24.0},
            {"beta_slow", 2.0},
            {"mscale", 0.9},
            {"mscale_all_dim", 0.6},
            {"original_max_position_embeddings", 4096}}},
          {"bos_token_id", 0},
          {"eos_token_id", 1},
          {"tie_word_embeddings", false}};
}

// DeepSeek-V2-Lite style: no q_lora, softmax scores, greedy top-k, no bias.
nlohmann::json v2_lite_variant() {
  auto c = v3_variant();
  c["model_type"] = "deepseek_v2";
  c["q_lora_rank"] = nullptr;
  c["scoring_func"] = "softmax";
  c["topk_method"] = "greedy";
  c["n_group"] = 1;
  c["topk_group"] = 1;
  c["norm_topk_prob"] = false;
  c["n_shared_experts"] = 1;
  c["first_k_dense_replace"] = 1;
  c["num_nextn_predict_layers"] = 0;
  c["rope_scaling"]["mscale"] = 0.707;
  c["rope_scaling"]["mscale_all_dim"] = 0.707;
  return c;
}

class UnseenConfigTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("unseen");
    write_synthetic_checkpoint(dir_, GetParam() == 0 ? v3_variant() : v2_lite_variant(), {.seed = 7, .shards = 3});
    model_ = load_model(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  std::unique_ptr<DeepseekModel> model_;
};

std::vector<int32_t> some_ids(int n, int seed, int vocab) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back((i * 131 + seed * 17 + 3) % vocab);
  return ids;
}

TEST_P(UnseenConfigTest, PromptLogitsMatchFloat64Reference) {
  const int64_t V = model_->config().vocab_size;
  for (int n : {1, 9, 140}) {
    const auto ids = some_ids(n, n, static_cast<int>(V));
    const auto ours = prompt_logits(*model_, ids);
    const auto ref = test::reference_logits(dir_, ids);
    double worst = 0, mag = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      worst = std::max(worst, std::fabs(ours[i] - ref[i]));
      mag = std::max(mag, std::fabs(ref[i]));
    }
    std::printf("[unseen %d] n=%d max|ours - ref| = %.3g (max |logit| %.3g)\n", GetParam(), n, worst, mag);
    EXPECT_LE(worst, 1e-3) << "prompt length " << n;
  }
}

TEST_P(UnseenConfigTest, CacheDecodeMatchesFullRecompute) {
  const int64_t V = model_->config().vocab_size;
  const auto ids = some_ids(40, 5, static_cast<int>(V));
  const auto full = prompt_logits(*model_, ids);
  for (AttentionPath path : {AttentionPath::Absorbed, AttentionPath::Expanded}) {
    PagedLatentCache cache = model_->make_cache(8, 16);
    const SequenceId s = cache.add_sequence();
    BatchEntry pre{s, std::span<const int32_t>(ids.data(), 10), true};
    auto l = test::forward_reserved(*model_, std::span<const BatchEntry>(&pre, 1), cache);
    double worst = 0;
    for (size_t t = 10; t < ids.size(); ++t) {
      BatchEntry step{s, std::span<const int32_t>(&ids[t], 1), false};
      l = test::forward_reserved(*model_, std::span<const BatchEntry>(&step, 1), cache, ForwardOptions{path});
      for (int64_t v = 0; v < V; ++v) worst = std::max(worst, static_cast<double>(std::fabs(l[v] - full[t * V + v])));
    }
    EXPECT_LE(worst, 1e-4);
  }
}

// Prompts longer than the expanded path's key chunk (1024 positions): the
// online softmax across chunks must agree with the absorbed formulation, also
// when the prompt arrives in two parts (a chunk boundary inside the cache).
TEST_P(UnseenConfigTest, LongPromptsSpanSeveralKeyChunks) {
  const int64_t V = model_->config().vocab_size;
  const auto ids = some_ids(1300, 9, static_cast<int>(V));
  auto run = [&](AttentionPath path, int64_t split) {
    PagedLatentCache cache = model_->make_cache(128, 16);
    const SequenceId s = cache.add_sequence();
    std::vector<float> all;
    for (int64_t b = 0; b < 1300; b += split) {
      BatchEntry e{s, std::span<const int32_t>(ids.data() + b, std::min<int64_t>(split, 1300 - b)), true};
      const auto l = test::forward_reserved(*model_, std::span<const BatchEntry>(&e, 1), cache, ForwardOptions{path});
      all.insert(all.end(), l.begin(), l.end());
    }
    return all;
  };
  const auto absorbed = run(AttentionPath::Absorbed, 1300);
  const auto expanded = run(AttentionPath::Expanded, 1300);
  const auto expanded_split = run(AttentionPath::Expanded, 700);
  double worst = 0, worst_split = 0;
  for (size_t i = 0; i < absorbed.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(absorbed[i] - expanded[i])));
    worst_split = std::max(worst_split, static_cast<double>(std::fabs(expanded_split[i] - expanded[i])));
  }
  std::printf("[unseen %d] 1300 tokens: |absorbed - expanded| %.3g, |split - whole| %.3g\n", GetParam(), worst,
              worst_split);
  EXPECT_LE(worst, 1e-4);
  EXPECT_LE(worst_split, 1e-4);
}

TEST_P(UnseenConfigTest, BatchedEqualsSingle) {
  const int64_t V = model_->config().vocab_size;
  std::vector<std::vector<int32_t>> prompts{some_ids(3, 1, V), some_ids(30, 2, V), some_ids(11, 3, V)};
  std::vector<GenerationRequest> reqs;
  for (auto& p : prompts) reqs.push_back({p, 8, false});
  const auto batched = generate(*model_, reqs);
  for (size_t i = 0; i < reqs.size(); ++i) {
    const auto single = generate(*model_, {reqs[i]});
    EXPECT_EQ(batched[i].generated, single[0].generated) << "request " << i;
  }
}

// The float64 reference is itself checked against the Hugging Face golden
// outputs, so agreement with it means agreement with the real semantics.
TEST(ReferenceModel, MatchesGoldenOnBothTinyCheckpoints) {
  for (const char* name : {"deepseek-r1-tiny", "kimi-k2-tiny"}) {
    const auto& g = test::golden(name);
    const auto& p = g.prompts[1];
    const auto ref = test::reference_logits(g.model_dir, p.ids);
    double worst = 0;
    for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(ref[i] - p.logits[i]));
    EXPECT_LE(worst, 1e-4) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(SyntheticCheckpoints, UnseenConfigTest, ::testing::Values(0, 1),
                         [](const auto& info) { return info.param == 0 ? "V3_8groups" : "V2LiteStyle"; });

}  // namespace
}  // namespace dsinfer
