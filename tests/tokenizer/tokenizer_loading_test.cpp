// Family detection from the model directory and clear errors, naming the
// file at fault, for missing or malformed tokenizer files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/error.h"
#include "tokenizer_test_util.h"

namespace dsinfer::test {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() : path_(make_temp_dir("tokenizer")) {}
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ + "/" + name, std::ios::binary) << content;
  }
  void copy_from(const std::string& model, const std::string& name) const {
    fs::copy_file(tokenizer_dir(model) + "/" + name, path_ + "/" + name);
  }

 private:
  std::string path_;
};

// Runs load_tokenizer and returns the Error message ("" if none was thrown).
std::string load_error(const std::string& dir) {
  try {
    load_tokenizer(dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_MESSAGE_HAS(message, part) \
  EXPECT_NE((message).find(part), std::string::npos) << "message: " << (message)

TEST(TokenizerLoading, DetectsFamilyAndSpecialTokens) {
  const auto& ds = shared_tokenizer("deepseek-v3");
  EXPECT_EQ(ds.family(), TokenizerFamily::DeepSeek);
  EXPECT_EQ(ds.vocab_size(), 128815);
  EXPECT_EQ(ds.bos_id(), 0);
  EXPECT_EQ(ds.eos_id(), 1);
  EXPECT_EQ(ds.special_token_id("<｜User｜>"), 128803);
  const auto& kimi = shared_tokenizer("kimi-k2");
  EXPECT_EQ(kimi.family(), TokenizerFamily::Kimi);
  EXPECT_EQ(kimi.vocab_size(), 163840);
  EXPECT_EQ(kimi.bos_id(), 163584);
  EXPECT_EQ(kimi.eos_id(), 163585);
  EXPECT_EQ(kimi.special_token_id("<|im_middle|>"), 163601);
  // Ids the config leaves unnamed decode to the reference's placeholder names.
  EXPECT_EQ(kimi.decode(std::vector<int32_t>{163589}), "<|reserved_token_163589|>");
}

TEST(TokenizerLoading, MissingDirectoryOrFiles) {
  EXPECT_MESSAGE_HAS(load_error("/nonexistent/model"), "/nonexistent/model: not a directory");
  TempDir empty;
  EXPECT_MESSAGE_HAS(load_error(empty.path()), "no tokenizer found");
  TempDir kimi_without_config;
  kimi_without_config.copy_from("kimi-k2", "tiktoken.model");
  EXPECT_MESSAGE_HAS(load_error(kimi_without_config.path()), "tokenizer_config.json: missing");
}

TEST(TokenizerLoading, MalformedTokenizerJson) {
  TempDir dir;
  dir.write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {");
  EXPECT_MESSAGE_HAS(load_error(dir.path()), "tokenizer.json: malformed JSON");
  dir.write("tokenizer.json", "[1, 2]");
  EXPECT_MESSAGE_HAS(load_error(dir.path()), "tokenizer.json: expected a JSON object");
  dir.write("tokenizer.json", R"({"model": {"type": "Unigram", "vocab": {}, "merges": []}})");
  EXPECT_MESSAGE_HAS(load_error(dir.path()), "model.type 'Unigram' is not supported");
  dir.write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})");
  EXPECT_MESSAGE_HAS(load_error(dir.path()), "model.vocab lacks the ByteLevel token for byte 0");
}

TEST(TokenizerLoading, UnsupportedTokenizerJsonPartsAreNamed) {
  // Start from the real file and break one part at a time.
  const auto base = nlohmann::json::parse(read_text_file(tokenizer_dir("deepseek-v3") + "/tokenizer.json"));
  const auto expect_error = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& part) {
    auto j = base;
    edit(j);
    TempDir dir;
    dir.write("tokenizer.json", j.dump());
    EXPECT_MESSAGE_HAS(load_error(dir.path()), part);
  };
  expect_error([](auto& j) { j["normalizer"] = {{"type", "NFKC"}}; }, "normalizer");
  expect_error([](auto& j) { j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed"; }, "behavior 'Removed'");
  expect_error([](auto& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed"; },
               "cannot compile regex");
  expect_error([](auto& j) { j["model"]["merges"][5] = "Ġ nonexistenttoken"; }, "model.merges[5]");
  expect_error([](auto& j) { j["added_tokens"][3]["lstrip"] = true; }, "added_tokens[3].lstrip");
  expect_error([](auto& j) { j["decoder"] = nullptr; }, "decoder must be ByteLevel");
  expect_error([](auto& j) { j["pre_tokenizer"] = {{"type", "Whitespace"}}; }, "pre_tokenizer type 'Whitespace'");
}

TEST(TokenizerLoading, MalformedTiktokenModel) {
  const std::string config = read_text_file(tokenizer_dir("kimi-k2") + "/tokenizer_config.json");
  const auto error_for = [&](const std::string& model) {
    TempDir dir;
    dir.write("tokenizer_config.json", config);
    dir.write("tiktoken.model", model);
    return load_error(dir.path());
  };
  EXPECT_MESSAGE_HAS(error_for("IQ== 0\nIg==\n"), "tiktoken.model:2: expected '<base64 token> <rank>'");
  EXPECT_MESSAGE_HAS(error_for("IQ== 0\n!!!! 1\n"), "tiktoken.model:2: invalid base64 token");
  EXPECT_MESSAGE_HAS(error_for("IQ== 0\nIg== x\n"), "tiktoken.model:2: invalid rank");
  EXPECT_MESSAGE_HAS(error_for("IQ== 0\nIg== 0\n"), "rank 0 appears twice");
  EXPECT_MESSAGE_HAS(error_for("IQ== 0\nIg== 2\n"), "rank 1 is missing");
  EXPECT_MESSAGE_HAS(error_for(""), "tiktoken.model: no tokens");
  // All 256 bytes are needed; two tokens are not enough.
  EXPECT_MESSAGE_HAS(error_for("IQ== 0\nIg== 1\n"), "no token for byte 0");
}

TEST(TokenizerLoading, MalformedTokenizerConfig) {
  TempDir dir;
  dir.copy_from("kimi-k2", "tiktoken.model");
  dir.write("tokenizer_config.json", "{\"added_tokens_decoder\": ");
  EXPECT_MESSAGE_HAS(load_error(dir.path()), "tokenizer_config.json: malformed JSON");
  dir.write("tokenizer_config.json", R"({"added_tokens_decoder": {"abc": {"content": "x"}}})");
  EXPECT_MESSAGE_HAS(load_error(dir.path()), "added_tokens_decoder[\"abc\"]: key is not a token id");
  dir.write("tokenizer_config.json", R"({"added_tokens_decoder": {"5": {"content": "<|x|>"}}})");
  EXPECT_MESSAGE_HAS(load_error(dir.path()), "added token id 5 ('<|x|>') is outside the special range");
}

TEST(TokenizerLoading, ChatFormatFromConfigNotDirectoryName) {
  // An R1 tokenizer_config.json next to the V3 tokenizer.json makes it R1.
  TempDir dir;
  dir.copy_from("deepseek-v3", "tokenizer.json");
  dir.copy_from("deepseek-r1", "tokenizer_config.json");
  EXPECT_EQ(load_tokenizer(dir.path())->chat_format(), ChatFormat::DeepSeekR1);
  // An unrecognized template: tokenization works, chat rendering says why not.
  dir.write("tokenizer_config.json", R"({"chat_template": "{{ messages }}"})");
  const auto tok = load_tokenizer(dir.path());
  EXPECT_EQ(tok->chat_format(), std::nullopt);
  EXPECT_EQ(tok->encode("Hello, world!"), (std::vector<int32_t>{19923, 14, 2058, 3}));
  try {
    render_chat(*tok, {{"user", "hi"}}, true);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_MESSAGE_HAS(std::string(e.what()), "chat_template is not a supported one");
  }
  // No config at all: the family's default format.
  fs::remove(dir.path() + "/tokenizer_config.json");
  EXPECT_EQ(load_tokenizer(dir.path())->chat_format(), ChatFormat::DeepSeekV3);
}

}  // namespace
}  // namespace dsinfer::test
