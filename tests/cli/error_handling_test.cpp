// Bad checkpoints and bad requests must give a one-line error naming the
// file / tensor / field at fault and exit code 2, never a crash.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {
namespace fs = std::filesystem;

class ErrorHandlingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("errors");
    model_ = dir_ + "/model";
    fs::copy(test::data_path("deepseek-r1-tiny"), model_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `logits` on the (possibly damaged) model and checks the failure.
  void expect_error(const std::string& ids, const std::vector<std::string>& needles) {
    auto r = test::run_dsinfer("logits --model " + model_ + " --ids '" + ids + "' --out " + dir_ + "/out.npy");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    for (const auto& n : needles) EXPECT_NE(r.output.find(n), std::string::npos) << "missing '" << n << "' in: " << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "not one line: " << r.output;
    EXPECT_FALSE(fs::exists(dir_ + "/out.npy"));
  }
  void edit_config(const std::function<void(nlohmann::json&)>& edit) {
    std::ifstream in(model_ + "/config.json");
    auto j = nlohmann::json::parse(in);
    edit(j);
    std::ofstream(model_ + "/config.json") << j.dump(2);
  }
  std::string shard(int i) { return model_ + "/model-0000" + std::to_string(i) + "-of-00003.safetensors"; }
  // Rewrites shard i through `edit` of its tensors.
  void rewrite_shard(int i, const std::function<void(std::vector<OwnedTensor>&)>& edit) {
    std::vector<OwnedTensor> ts;
    {
      SafetensorsFile f(shard(i));
      for (const auto& [name, v] : f.tensors())
        ts.push_back({{name, v.dtype, v.shape}, std::vector<uint8_t>(v.data, v.data + v.nbytes)});
    }
    edit(ts);
    write_safetensors(shard(i), ts);
  }
  std::string dir_, model_;
};

TEST_F(ErrorHandlingTest, MissingShard) {
  fs::remove(shard(2));
  expect_error("1,2", {"model-00002-of-00003.safetensors", "missing shard"});
}

TEST_F(ErrorHandlingTest, TruncatedShard) {
  fs::resize_file(shard(3), fs::file_size(shard(3)) / 2);
  expect_error("1,2", {"model-00003-of-00003.safetensors", "out of range"});
}

TEST_F(ErrorHandlingTest, TinyFileWithoutHeader) {
  fs::resize_file(shard(3), 5);
  expect_error("1,2", {"model-00003-of-00003.safetensors", "truncated"});
}

TEST_F(ErrorHandlingTest, HeaderLengthPastEndOfFile) {
  std::fstream f(shard(1), std::ios::in | std::ios::out | std::ios::binary);
  const uint64_t huge = 1ull << 40;
  f.write(reinterpret_cast<const char*>(&huge), 8);
  f.close();
  expect_error("1,2", {"model-00001-of-00003.safetensors", "header length"});
}

// Hand-written header so the offsets can be made inconsistent.
void write_raw_safetensors(const std::string& path, const std::string& header, size_t data_bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  const uint64_t n = header.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << header;
  f << std::string(data_bytes, '\0');
}

TEST_F(ErrorHandlingTest, OverlappingDataOffsets) {
  write_raw_safetensors(shard(3),
                        R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                        R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
                        24);
  expect_error("1,2", {"model-00003-of-00003.safetensors", "overlapping"});
}

TEST_F(ErrorHandlingTest, OutOfRangeDataOffsets) {
  write_raw_safetensors(shard(3), R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
  expect_error("1,2", {"model-00003-of-00003.safetensors", "'a'", "out of range"});
}

TEST_F(ErrorHandlingTest, BytesDisagreeWithDtypeTimesShape) {
  write_raw_safetensors(shard(3), R"({"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,16]}})", 16);
  expect_error("1,2", {"model-00003-of-00003.safetensors", "'a'", "BF16"});
}

TEST_F(ErrorHandlingTest, ShapeNotMatchingConfig) {
  edit_config([](nlohmann::json& j) { j["kv_lora_rank"] = 96; });
  expect_error("1,2", {"kv_a_proj_with_mqa.weight", "config.json", "[144, 256]"});
}

TEST_F(ErrorHandlingTest, DtypeNotUsable) {
  rewrite_shard(1, [](std::vector<OwnedTensor>& ts) {
    for (auto& t : ts)
      if (t.spec.name == "model.layers.0.input_layernorm.weight") {
        t.spec.dtype = DType::I8;  // right shape [256], unusable dtype for a norm
        t.bytes.resize(256);
      }
  });
  expect_error("1,2", {"model.layers.0.input_layernorm.weight", "unsupported dtype I8"});
}

TEST_F(ErrorHandlingTest, WrongDtypeForLinear) {
  rewrite_shard(1, [](std::vector<OwnedTensor>& ts) {
    for (auto& t : ts)
      if (t.spec.name == "model.layers.0.mlp.down_proj.weight") t.spec.dtype = DType::I8;  // same bytes, no scale
  });
  expect_error("1,2", {"model.layers.0.mlp.down_proj.weight", "weight_scale"});
}

TEST_F(ErrorHandlingTest, MissingTensor) {
  rewrite_shard(1, [](std::vector<OwnedTensor>& ts) {
    std::erase_if(ts, [](const OwnedTensor& t) { return t.spec.name == "model.layers.0.self_attn.o_proj.weight"; });
  });
  expect_error("1,2", {"missing tensor", "model.layers.0.self_attn.o_proj.weight"});
}

TEST_F(ErrorHandlingTest, MissingFp8Scale) {
  rewrite_shard(1, [](std::vector<OwnedTensor>& ts) {
    std::erase_if(ts, [](const OwnedTensor& t) { return t.spec.name == "model.layers.0.self_attn.o_proj.weight_scale_inv"; });
  });
  expect_error("1,2", {"model.layers.0.self_attn.o_proj.weight_scale_inv"});
}

TEST_F(ErrorHandlingTest, UnknownModelType) {
  edit_config([](nlohmann::json& j) { j["model_type"] = "llama"; });
  expect_error("1,2", {"config.json", "model_type", "llama"});
}

TEST_F(ErrorHandlingTest, MissingConfigField) {
  edit_config([](nlohmann::json& j) { j.erase("hidden_size"); });
  expect_error("1,2", {"config.json", "hidden_size"});
}

TEST_F(ErrorHandlingTest, MalformedConfig) {
  std::ofstream(model_ + "/config.json") << "{ not json";
  expect_error("1,2", {"config.json", "malformed"});
}

TEST_F(ErrorHandlingTest, OutOfVocabularyId) { expect_error("1,2048", {"2048", "vocab"}); }

TEST_F(ErrorHandlingTest, NotAnId) { expect_error("1,x", {"--ids", "'x'"}); }

TEST_F(ErrorHandlingTest, EmptyPrompt) { expect_error("", {"empty prompt"}); }

TEST_F(ErrorHandlingTest, MissingModelDirectory) {
  fs::remove_all(model_);
  expect_error("1", {model_});
}

TEST(CliHelp, EveryCommandDocumentsItsFlags) {
  auto top = test::run_dsinfer("--help");
  EXPECT_EQ(top.exit_code, 0);
  for (const char* cmd : {"logits", "generate"}) EXPECT_NE(top.output.find(cmd), std::string::npos);
  auto logits = test::run_dsinfer("logits --help");
  EXPECT_EQ(logits.exit_code, 0);
  for (const char* f : {"--model", "--ids", "--out"}) EXPECT_NE(logits.output.find(f), std::string::npos) << f;
  auto gen = test::run_dsinfer("generate --help");
  for (const char* f : {"--model", "--ids", "--max-new-tokens", "--output-json", "--stop-at-eos"})
    EXPECT_NE(gen.output.find(f), std::string::npos) << f;
}

TEST(CliUsage, UnknownFlagIsAnError) {
  auto r = test::run_dsinfer("logits --model x --ids 1 --out y --bogus");
  EXPECT_EQ(r.exit_code, 2);
}

TEST(LengthLimits, GenerateReportsAFailedOutputWrite) {
  // /dev/full accepts the open and fails the write: the data only leaves the stream buffer at close.
  const auto r = test::run_dsinfer("generate --model " + test::data_path("deepseek-r1-tiny") +
                                   " --ids 1,2 --max-new-tokens 2 --output-json /dev/full");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/dev/full: write failed"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace dsinfer

namespace dsinfer {
namespace {

// A length the model cannot address is refused before anything is planned,
// naming the flag or key and the model's max_position_embeddings.
TEST(LengthLimits, GenerateAndRunRefuseLengthsPastMaxPositionEmbeddings) {
  const std::string model = test::data_path("deepseek-r1-tiny");
  auto r = test::run_dsinfer("generate --model " + model + " --ids 1,2,3 --max-new-tokens 100000000");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--max-new-tokens 100000000"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("max_position_embeddings (163840"), std::string::npos) << r.output;
  // run: input_max_len 64 + max_new_tokens 163800 is 24 positions past the limit.
  const std::string dir = test::make_temp_dir("length-limits");
  std::ofstream(dir + "/run.yaml") << "model_name: deepseek_r1\nmodel_path: \"" << model
                                   << "\"\nexe_mode: eager\nworld_size: 1\nmodel_config:\n  enable_pa: True\n"
                                      "  pa_block_size: 16\ndata_config:\n  dataset: default\n  input_max_len: 64\n"
                                      "  max_new_tokens: 163800\n  batch_size: 1\n";
  r = test::run_dsinfer("run --config " + dir + "/run.yaml --no-warmup --quiet");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("max_new_tokens (163800)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("max_position_embeddings (163840"), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}
}  // namespace
}  // namespace dsinfer
