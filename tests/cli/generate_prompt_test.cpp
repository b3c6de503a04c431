// `dsinfer generate --prompt TEXT [--chat]`: text in, ids and text out, with
// the model directory's real tokenizer (a small random model with DeepSeek's
// 129280-token vocabulary and the shipped R1 tokenizer files).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/synthetic_checkpoint.h"
#include "support/test_support.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer {
namespace {
namespace fs = std::filesystem;

class GeneratePromptTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::make_temp_dir("genprompt"));
    nlohmann::json c = nlohmann::json::parse(std::ifstream(test::data_path("deepseek-r1-tiny/config.json")));
    c["vocab_size"] = 129280;
    c["hidden_size"] = 64;
    c["num_hidden_layers"] = 2;
    c["num_nextn_predict_layers"] = 0;
    write_synthetic_checkpoint(*dir_, c, {.seed = 3});
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
      fs::copy_file(test::source_root() + "/assets/deepseek-r1/" + f, *dir_ + "/" + f);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string* dir_;
};
std::string* GeneratePromptTest::dir_ = nullptr;

TEST_F(GeneratePromptTest, TextPromptIsTokenizedAndOutputDecoded) {
  auto r = test::run_dsinfer("generate --model " + *dir_ + " --prompt 'The capital of France is' --max-new-tokens 4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  const auto tok = load_tokenizer(*dir_);
  EXPECT_EQ(j["prompt_ids"].get<std::vector<int32_t>>(), tok->encode("The capital of France is"));
  const auto gen = j["generated_ids"].get<std::vector<int32_t>>();
  ASSERT_EQ(gen.size(), 4u);
  EXPECT_EQ(j["generated_text"].get<std::string>(), tok->decode(gen));
}

TEST_F(GeneratePromptTest, ChatFlagAppliesTheTemplate) {
  auto r = test::run_dsinfer("generate --model " + *dir_ + " --prompt 'Hi' --chat --max-new-tokens 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto ids = nlohmann::json::parse(r.output)["prompt_ids"].get<std::vector<int32_t>>();
  const auto tok = load_tokenizer(*dir_);
  EXPECT_EQ(ids, encode_chat(*tok, {{"user", "Hi"}}, true));
  EXPECT_EQ(ids.front(), *tok->bos_id());
}

TEST_F(GeneratePromptTest, IdsAndPromptAreExclusive) {
  auto r = test::run_dsinfer("generate --model " + *dir_ + " --prompt 'x' --ids 1,2");
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace dsinfer
