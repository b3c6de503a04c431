// C8 calibration on real text: a model directory with tokenizer files is
// calibrated on the built-in texts (or on "text" records of --calib-data)
// through its own tokenizer and chat template.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "io/synthetic_checkpoint.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {
namespace fs = std::filesystem;

class TextCalibrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("textcalib");
    in_ = dir_ + "/in";
    fs::create_directories(in_);
    nlohmann::json c = nlohmann::json::parse(std::ifstream(test::data_path("deepseek-r1-tiny/config.json")));
    c.update({{"vocab_size", 129280}, {"hidden_size", 64}, {"num_hidden_layers", 2}, {"num_nextn_predict_layers", 0}});
    write_synthetic_checkpoint(in_, c, {.seed = 5});
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
      fs::copy_file(test::source_root() + "/assets/deepseek-r1/" + f, in_ + "/" + f);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<float> scales(const std::string& out) {
    std::vector<float> s;
    Checkpoint ck(out);
    for (int l = 0; l < 2; ++l) s.push_back(ck.get("model.layers." + std::to_string(l) + ".self_attn.ckv_scale").as<float>()[0]);
    return s;
  }
  std::string dir_, in_;
};

TEST_F(TextCalibrationTest, BuiltInTextsThroughTheModelsTokenizer) {
  auto r = test::run_dsinfer("convert --input_fp8_hf_path " + in_ + " --output_hf_path " + dir_ +
                             "/c8 --quant_mode w8a8c8");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("built-in calibration texts"), std::string::npos) << r.output;
  for (float s : scales(dir_ + "/c8")) EXPECT_GT(s, 0.f);
}

TEST_F(TextCalibrationTest, TextRecordsInCalibData) {
  std::ofstream(dir_ + "/calib.jsonl") << "{\"text\": \"The quick brown fox jumps over the lazy dog.\"}\n"
                                       << "{\"ids\": [5, 6, 7, 8]}\n";
  auto r = test::run_dsinfer("convert --input_fp8_hf_path " + in_ + " --output_hf_path " + dir_ +
                             "/c8 --quant_mode w8a8c8 --calib-data " + dir_ + "/calib.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("calib.jsonl"), std::string::npos) << r.output;
  // Different calibration data, different scales than the built-in texts.
  auto builtin = test::run_dsinfer("convert --input_fp8_hf_path " + in_ + " --output_hf_path " + dir_ +
                                   "/c8b --quant_mode w8a8c8");
  ASSERT_EQ(builtin.exit_code, 0) << builtin.output;
  EXPECT_NE(scales(dir_ + "/c8"), scales(dir_ + "/c8b"));
}

}  // namespace
}  // namespace dsinfer
