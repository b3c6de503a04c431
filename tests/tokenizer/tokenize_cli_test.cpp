// The `dsinfer tokenize` / `dsinfer detokenize` contract, run as a user would.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tokenizer_test_util.h"

namespace dsinfer::test {
namespace {

std::string quoted(const std::string& s) { return "'" + s + "'"; }

std::vector<int32_t> ids_from_output(const CommandResult& r) {
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j.size(), 1u);
  return j.at("ids").get<std::vector<int32_t>>();
}

class CliFiles : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("tokenize-cli"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string dir_;
};

TEST(TokenizeCli, TextToIds) {
  const auto r = run_dsinfer("tokenize --model " + tokenizer_dir("deepseek-v3") + " --text " + quoted("Hello, world!"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "{\"ids\":[19923,14,2058,3]}\n");
}

TEST_F(CliFiles, TextFileMatchesGolden) {
  const auto& g = tokenizer_golden();
  const std::string path = write("long.txt", g.at("long_text").get<std::string>());
  for (const char* family : {"deepseek-v3", "kimi-k2"}) {
    const auto r = run_dsinfer("tokenize --model " + tokenizer_dir(family) + " --text-file " + path);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(ids_from_output(r), g.at(family).at("long_text_ids").get<std::vector<int32_t>>()) << family;
  }
}

TEST_F(CliFiles, ChatJsonAppliesTemplateWithGenerationPrompt) {
  const auto& g = tokenizer_golden();
  const std::vector<std::pair<std::string, const nlohmann::json*>> cases = {
      {"deepseek-v3", &g.at("deepseek-v3").at("chat_v3_template")},
      {"deepseek-r1", &g.at("deepseek-v3").at("chat_r1_template")},
      {"kimi-k2", &g.at("kimi-k2").at("chat")}};
  for (const auto& [model, conversations] : cases) {
    for (const auto& c : *conversations) {
      const std::string path = write("chat.json", c.at("messages").dump());
      const auto r = run_dsinfer("tokenize --model " + tokenizer_dir(model) + " --chat-json " + path);
      ASSERT_EQ(r.exit_code, 0) << r.output;
      EXPECT_EQ(ids_from_output(r), c.at("ids").get<std::vector<int32_t>>()) << model;
    }
  }
}

TEST(TokenizeCli, DetokenizePrintsTextExactly) {
  const auto& g = tokenizer_golden();
  for (const char* family : {"deepseek-v3", "kimi-k2"}) {
    for (size_t i : {0, 3, 12, 13}) {
      const auto& c = g.at(family).at("encode")[i];
      std::string ids;
      for (const auto& id : c.at("ids")) ids += (ids.empty() ? "" : ",") + std::to_string(id.get<int32_t>());
      const auto r = run_dsinfer("detokenize --model " + tokenizer_dir(family) + " --ids " + ids);
      ASSERT_EQ(r.exit_code, 0) << r.output;
      EXPECT_EQ(r.output, c.at("text").get<std::string>()) << family << " case " << i;
    }
  }
}

TEST_F(CliFiles, ErrorsExitWithCode2AndSayWhy) {
  const std::string ds = tokenizer_dir("deepseek-v3");
  const auto expect_error = [](const std::string& args, const std::string& part) {
    const auto r = run_dsinfer(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(part), std::string::npos) << args << "\n" << r.output;
  };
  expect_error("tokenize --model " + ds, "exactly one of --text, --text-file, --chat-json");
  expect_error("tokenize --model " + ds + " --text a --text-file b", "--text-file");
  expect_error("tokenize --model /no/such/model --text hi", "/no/such/model: not a directory");
  expect_error("tokenize --model " + ds + " --text-file " + dir_ + "/missing.txt", "missing.txt: cannot open");
  expect_error("tokenize --model " + ds + " --text-file " + write("bad.txt", "ok\xC3("), "invalid UTF-8 at byte 2");
  expect_error("tokenize --model " + ds + " --chat-json " + write("c1.json", "[{\"role\": \"user\"}]"),
               "message 0 needs string fields 'role' and 'content'");
  expect_error("tokenize --model " + ds + " --chat-json " + write("c2.json", "{oops"), "malformed JSON");
  expect_error("tokenize --model " + ds + " --chat-json " + write("c3.json", R"([{"role": "bot", "content": "x"}])"),
               "unknown role 'bot'");
  expect_error("detokenize --model " + ds + " --ids 1,x", "--ids: 'x' is not a valid token id");
  expect_error("detokenize --model " + ds + " --ids 999999", "token id 999999 is not in the vocabulary");
  expect_error("detokenize --model " + ds, "--ids is required");
}

TEST(TokenizeCli, HelpDocumentsEveryFlag) {
  const auto t = run_dsinfer("tokenize --help");
  EXPECT_EQ(t.exit_code, 0);
  for (const char* flag : {"--model", "--text", "--text-file", "--chat-json"})
    EXPECT_NE(t.output.find(flag), std::string::npos) << flag;
  const auto d = run_dsinfer("detokenize --help");
  EXPECT_EQ(d.exit_code, 0);
  for (const char* flag : {"--model", "--ids"}) EXPECT_NE(d.output.find(flag), std::string::npos) << flag;
}

}  // namespace
}  // namespace dsinfer::test
