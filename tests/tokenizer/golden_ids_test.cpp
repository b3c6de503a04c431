// Every id list of tokenizers.golden.json (computed by the reference
// tokenizers) must be reproduced exactly, and decode must give the text back.
#include <gtest/gtest.h>

#include <thread>

#include "tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace dsinfer::test {
namespace {

std::vector<int32_t> ids_of(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

std::vector<ChatMessage> messages_of(const nlohmann::json& j) {
  std::vector<ChatMessage> out;
  for (const auto& m : j) out.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
  return out;
}

// Where two id lists first differ, with the tokens around it spelled out.
std::string first_difference(const Tokenizer& tok, const std::vector<int32_t>& got, const std::vector<int32_t>& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  const auto spell = [&](const std::vector<int32_t>& ids) {
    std::string s;
    for (size_t k = i; k < ids.size() && k < i + 6; ++k)
      s += std::to_string(ids[k]) + "=" + nlohmann::json(std::string(tok.token_bytes(ids[k]))).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + " ";
    return s;
  };
  return "first difference at index " + std::to_string(i) + "\n  got:  " + spell(got) + "\n  want: " + spell(want);
}

// Checks encode == golden ids and decode(ids) == text.
void expect_exact(const Tokenizer& tok, const std::string& text, const std::vector<int32_t>& golden,
                  const std::string& what) {
  const auto ids = tok.encode(text);
  EXPECT_TRUE(ids == golden) << what << ": " << first_difference(tok, ids, golden)
                             << "\n  text: " << nlohmann::json(text).dump();
  EXPECT_EQ(tok.decode(ids), text) << what << ": decode(encode(text)) != text";
  EXPECT_EQ(tok.decode(golden), text) << what;
}

struct Family {
  const char* golden_key;
  const char* tokenizer;
};

class GoldenIds : public ::testing::TestWithParam<Family> {};

TEST_P(GoldenIds, EdgeCases) {
  const auto& tok = shared_tokenizer(GetParam().tokenizer);
  const auto& cases = tokenizer_golden().at(GetParam().golden_key).at("encode");
  ASSERT_EQ(cases.size(), 20u);
  for (size_t i = 0; i < cases.size(); ++i)
    expect_exact(tok, cases[i].at("text").get<std::string>(), ids_of(cases[i].at("ids")), "encode[" + std::to_string(i) + "]");
}

TEST_P(GoldenIds, LongText) {
  const auto& tok = shared_tokenizer(GetParam().tokenizer);
  const auto& g = tokenizer_golden();
  const std::string text = g.at("long_text").get<std::string>();
  ASSERT_EQ(text, read_text_file(data_path("tokenizers/long_text.txt")));
  expect_exact(tok, text, ids_of(g.at(GetParam().golden_key).at("long_text_ids")), "long_text");
}

TEST_P(GoldenIds, Fuzz) {
  const auto& tok = shared_tokenizer(GetParam().tokenizer);
  const auto& cases = tokenizer_golden().at(GetParam().golden_key).at("fuzz");
  ASSERT_EQ(cases.size(), 200u);
  for (size_t i = 0; i < cases.size(); ++i)
    expect_exact(tok, cases[i].at("text").get<std::string>(), ids_of(cases[i].at("ids")), "fuzz[" + std::to_string(i) + "]");
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, GoldenIds,
                         ::testing::Values(Family{"deepseek-v3", "deepseek-v3"}, Family{"kimi-k2", "kimi-k2"}),
                         [](const auto& info) { return std::string(info.param.tokenizer[0] == 'd' ? "DeepSeek" : "Kimi"); });

// Chat conversations: the rendered text and its ids, per template.
void expect_chat(const std::string& tokenizer, const nlohmann::json& conversations) {
  const auto& tok = shared_tokenizer(tokenizer);
  ASSERT_FALSE(conversations.empty());
  for (size_t i = 0; i < conversations.size(); ++i) {
    const auto& c = conversations[i];
    const auto messages = messages_of(c.at("messages"));
    const std::string text = render_chat(tok, messages, /*add_generation_prompt=*/true);
    EXPECT_EQ(text, c.at("text").get<std::string>()) << tokenizer << " conversation " << i;
    EXPECT_EQ(encode_chat(tok, messages, true), ids_of(c.at("ids"))) << tokenizer << " conversation " << i;
    EXPECT_EQ(tok.decode(ids_of(c.at("ids"))), c.at("text").get<std::string>());
  }
}

TEST(GoldenChat, DeepSeekV3Template) { expect_chat("deepseek-v3", tokenizer_golden().at("deepseek-v3").at("chat_v3_template")); }
TEST(GoldenChat, DeepSeekR1Template) { expect_chat("deepseek-r1", tokenizer_golden().at("deepseek-v3").at("chat_r1_template")); }
TEST(GoldenChat, KimiK2Template) { expect_chat("kimi-k2", tokenizer_golden().at("kimi-k2").at("chat")); }

TEST(GoldenChat, FormatsDetectedFromTemplates) {
  EXPECT_EQ(shared_tokenizer("deepseek-v3").chat_format(), ChatFormat::DeepSeekV3);
  EXPECT_EQ(shared_tokenizer("deepseek-r1").chat_format(), ChatFormat::DeepSeekR1);
  EXPECT_EQ(shared_tokenizer("kimi-k2").chat_format(), ChatFormat::KimiK2);
}

TEST(GoldenIdsConcurrency, ParallelEncodesMatchSerial) {
  // encode() keeps no shared mutable state, so threads may share a tokenizer.
  for (const char* family : {"deepseek-v3", "kimi-k2"}) {
    const auto& tok = shared_tokenizer(family);
    const auto& cases = tokenizer_golden().at(family).at("fuzz");
    std::vector<std::vector<int32_t>> got(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < got.size(); ++t)
      threads.emplace_back([&, t] {
        for (size_t i = t; i < cases.size(); i += got.size()) {
          const auto ids = tok.encode(cases[i].at("text").get<std::string>());
          got[t].insert(got[t].end(), ids.begin(), ids.end());
        }
      });
    for (auto& th : threads) th.join();
    for (size_t t = 0; t < got.size(); ++t) {
      std::vector<int32_t> want;
      for (size_t i = t; i < cases.size(); i += got.size()) {
        const auto ids = cases[i].at("ids").get<std::vector<int32_t>>();
        want.insert(want.end(), ids.begin(), ids.end());
      }
      EXPECT_TRUE(got[t] == want) << family << " thread " << t;
    }
  }
}

}  // namespace
}  // namespace dsinfer::test
