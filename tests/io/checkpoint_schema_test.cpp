// The checkpoint schema against the real tiny release checkpoints (names,
// dtypes, shapes and file order of every tensor, MTP layer included), its
// options, the config variants it must follow, and the synthetic writer
// built on it.
#include "io/checkpoint_schema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "io/safetensors.h"
#include "io/synthetic_checkpoint.h"
#include "model/model_weights.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {

struct Stored {
  DType dtype;
  std::vector<int64_t> shape;
  bool operator==(const Stored&) const = default;
};

std::vector<std::string> names_of(const CheckpointSchema& s) {
  std::vector<std::string> out;
  for_each_tensor(s, [&](const StoredTensor& t) { out.push_back(t.name); });
  return out;
}

std::map<std::string, Stored> tensors_of(const CheckpointSchema& s) {
  std::map<std::string, Stored> out;
  for_each_tensor(s, [&](const StoredTensor& t) {
    EXPECT_TRUE(out.emplace(t.name, Stored{t.dtype, t.shape}).second) << "listed twice: " << t.name;
  });
  return out;
}

std::map<std::string, Stored> tensors_of(const Checkpoint& c) {
  std::map<std::string, Stored> out;
  for (const auto& n : c.names()) out.emplace(n, Stored{c.get(n).dtype, c.get(n).shape});
  return out;
}

// weight_map keys in file order (the release lists them in storage order).
std::vector<std::string> index_order(const std::string& dir) {
  std::ifstream in(dir + "/model.safetensors.index.json");
  const auto index = nlohmann::ordered_json::parse(in);
  std::vector<std::string> out;
  for (const auto& [name, file] : index["weight_map"].items()) out.push_back(name);
  return out;
}

std::set<std::string> as_set(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

ModelConfig config_from(const nlohmann::json& j) { return parse_model_config(j.dump(), "test config"); }

class ReleaseSchemaTest : public ::testing::TestWithParam<const char*> {
 protected:
  std::string dir() const { return test::data_path(GetParam()); }
};

TEST_P(ReleaseSchemaTest, ListsExactlyTheReleaseTensors) {
  const ModelConfig c = load_model_config(dir());
  const CheckpointSchema s = checkpoint_schema(c);
  const Checkpoint ckpt(dir());
  const auto ours = tensors_of(s), theirs = tensors_of(ckpt);
  for (const auto& [name, t] : theirs) {
    auto it = ours.find(name);
    ASSERT_NE(it, ours.end()) << "schema lacks " << name;
    EXPECT_EQ(it->second.dtype, t.dtype) << name;
    EXPECT_EQ(it->second.shape, t.shape) << name;
  }
  for (const auto& [name, t] : ours) EXPECT_TRUE(theirs.count(name)) << "not in the release: " << name;
}

TEST_P(ReleaseSchemaTest, EnumeratesInReleaseFileOrder) {
  EXPECT_EQ(names_of(checkpoint_schema(load_model_config(dir()))), index_order(dir()));
}

TEST_P(ReleaseSchemaTest, WithoutMtpTheMtpLayersDisappear) {
  const ModelConfig c = load_model_config(dir());
  const auto all = as_set(names_of(checkpoint_schema(c)));
  const auto main = as_set(names_of(checkpoint_schema(c, {.include_mtp = false})));
  std::set<std::string> mtp;
  for (int64_t k = 0; k < c.num_nextn_predict_layers; ++k) {
    const std::string p = "model.layers." + std::to_string(c.num_hidden_layers + k) + ".";
    for (const auto& n : all)
      if (n.starts_with(p)) mtp.insert(n);
  }
  std::set<std::string> rest;
  std::set_difference(all.begin(), all.end(), mtp.begin(), mtp.end(), std::inserter(rest, rest.end()));
  EXPECT_EQ(main, rest);
  EXPECT_EQ(checkpoint_schema(c, {.include_mtp = false}).mtp_layers.size(), 0u);
}

TEST_P(ReleaseSchemaTest, ExpertFilterDropsExactlyTheFilteredExperts) {
  const ModelConfig c = load_model_config(dir());
  auto keep = [](int64_t layer, int64_t e) { return (e + layer) % 3 == 0; };
  const auto all = as_set(names_of(checkpoint_schema(c)));
  const CheckpointSchema filtered = checkpoint_schema(c, {.expert_filter = keep});
  const auto kept = as_set(names_of(filtered));
  std::set<std::string> expected;
  for (const auto& n : all) {
    int layer = -1, e = -1;
    if (std::sscanf(n.c_str(), "model.layers.%d.mlp.experts.%d.", &layer, &e) == 2 && !keep(layer, e)) continue;
    expected.insert(n);
  }
  EXPECT_LT(expected.size(), all.size());
  EXPECT_EQ(kept, expected);
  for (const auto& L : filtered.layers)
    if (L.moe) {
      EXPECT_EQ(L.moe->n_routed_experts, c.n_routed_experts);
      for (const auto& [id, spec] : L.moe->experts) EXPECT_TRUE(keep(L.index, id));
    }
}

TEST_P(ReleaseSchemaTest, WithoutEmbeddingEveryEmbeddingDisappears) {
  const ModelConfig c = load_model_config(dir());
  const auto names = names_of(checkpoint_schema(c, {.include_embedding = false}));
  for (const auto& n : names) EXPECT_EQ(n.find("embed_tokens"), std::string::npos) << n;
  EXPECT_EQ(names.size() + 1 + c.num_nextn_predict_layers, names_of(checkpoint_schema(c)).size());
}

// The writer's checkpoint of the same config has exactly the schema's
// tensors in its index and loads.
TEST_P(ReleaseSchemaTest, SyntheticCheckpointHoldsTheSchemaAndLoads) {
  const std::string out = test::make_temp_dir("schema");
  write_synthetic_checkpoint(out, read_json(dir() + "/config.json"), {.seed = 11, .shards = 3});
  const ModelConfig c = load_model_config(out);
  const CheckpointSchema s = checkpoint_schema(c);
  EXPECT_EQ(index_order(out), names_of(s));
  EXPECT_EQ(tensors_of(Checkpoint(out)), tensors_of(s));
  EXPECT_EQ(tensors_of(Checkpoint(out)), tensors_of(Checkpoint(dir())));
  uint64_t bytes = 0;
  for_each_tensor(s, [&](const StoredTensor& t) { bytes += t.nbytes(); });
  EXPECT_EQ(synthetic_checkpoint_bytes(read_json(dir() + "/config.json")), bytes);
  const LoadedCheckpoint loaded(out, c);
  EXPECT_EQ(loaded.weights().layers.size(), static_cast<size_t>(c.num_hidden_layers));
  std::filesystem::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(TinyReleases, ReleaseSchemaTest, ::testing::Values("deepseek-r1-tiny", "kimi-k2-tiny"),
                         [](const auto& info) { return std::string(info.param) == "deepseek-r1-tiny" ? "R1" : "K2"; });

nlohmann::json r1_tiny_json() { return read_json(test::data_path("deepseek-r1-tiny") + "/config.json"); }

TEST(CheckpointSchema, R1TinyHasItsMtpLayerExtras) {
  const auto t = tensors_of(checkpoint_schema(config_from(r1_tiny_json())));
  for (const char* n : {"model.layers.3.embed_tokens.weight", "model.layers.3.enorm.weight",
                        "model.layers.3.hnorm.weight", "model.layers.3.eh_proj.weight",
                        "model.layers.3.shared_head.norm.weight", "model.layers.3.shared_head.head.weight"})
    EXPECT_TRUE(t.count(n)) << n;
  EXPECT_EQ(t.at("model.layers.3.eh_proj.weight"), (Stored{DType::BF16, {256, 512}}));
}

TEST(CheckpointSchema, NullQLoraRankGivesQProj) {
  auto j = r1_tiny_json();
  j["q_lora_rank"] = nullptr;
  const ModelConfig c = config_from(j);
  const auto t = tensors_of(checkpoint_schema(c));
  const int64_t q_rows = c.num_attention_heads * c.qk_head_dim();
  EXPECT_EQ(t.at("model.layers.0.self_attn.q_proj.weight"), (Stored{DType::F8_E4M3, {q_rows, c.hidden_size}}));
  EXPECT_EQ(t.at("model.layers.0.self_attn.q_proj.weight_scale_inv"), (Stored{DType::F32, {3, 2}}));
  for (const auto& [name, s] : t) {
    EXPECT_EQ(name.find("q_a_"), std::string::npos) << name;
    EXPECT_EQ(name.find("q_b_proj"), std::string::npos) << name;
  }
}

TEST(CheckpointSchema, C8AddsCkvScalePerLayer) {
  auto j = r1_tiny_json();
  j["quantization_config"] = {{"quant_method", "compressed-tensors"},
                              {"kv_cache_scheme", {{"num_bits", 8}, {"type", "int"}}}};
  const ModelConfig c = config_from(j);
  ASSERT_TRUE(c.quant.kv_cache_int8);
  const auto t = tensors_of(checkpoint_schema(c, {.include_mtp = false}));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    EXPECT_EQ(t.at("model.layers." + std::to_string(i) + ".self_attn.ckv_scale"), (Stored{DType::F32, {1}}));
  EXPECT_EQ(tensors_of(checkpoint_schema(config_from(r1_tiny_json()))).count("model.layers.0.self_attn.ckv_scale"), 0u);
}

TEST(CheckpointSchema, DenseAndMoeLayersFollowTheConfig) {
  auto j = r1_tiny_json();
  j.update({{"num_hidden_layers", 5}, {"first_k_dense_replace", 1}, {"moe_layer_freq", 2}, {"topk_method", "greedy"},
            {"n_shared_experts", 0}});
  const CheckpointSchema s = checkpoint_schema(config_from(j), {.include_mtp = false});
  ASSERT_EQ(s.layers.size(), 5u);
  for (const auto& L : s.layers) {
    const bool moe = L.index == 2 || L.index == 4;
    EXPECT_EQ(L.moe.has_value(), moe) << L.index;
    EXPECT_EQ(L.dense_mlp.has_value(), !moe) << L.index;
    if (moe) {
      EXPECT_FALSE(L.moe->score_bias) << "greedy routing has no correction bias";
      EXPECT_FALSE(L.moe->shared);
      EXPECT_EQ(L.moe->experts.size(), 16u);
    }
  }
  const auto t = tensors_of(s);
  EXPECT_EQ(t.at("model.layers.1.mlp.down_proj.weight"), (Stored{DType::F8_E4M3, {256, 512}}));
  EXPECT_EQ(t.at("model.layers.2.mlp.gate.weight"), (Stored{DType::BF16, {16, 256}}));
  EXPECT_EQ(t.count("model.layers.2.mlp.gate.e_score_correction_bias"), 0u);
}

}  // namespace
}  // namespace dsinfer
