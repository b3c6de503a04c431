// Chat rendering beyond the golden conversations: each rule of the three
// tokenizer_config.json templates, written out by hand from the templates.
#include <gtest/gtest.h>

#include "io/error.h"
#include "tokenizer/chat_template.h"
#include "tokenizer_test_util.h"

namespace dsinfer::test {
namespace {

const std::string kBos = "<｜begin▁of▁sentence｜>";

TEST(ChatTemplate, DeepSeekJoinsSystemPromptsFirst) {
  const std::vector<ChatMessage> m = {{"user", "u1"}, {"system", "s1"}, {"system", "s2"}};
  EXPECT_EQ(render_chat(ChatFormat::DeepSeekV3, m, false), kBos + "s1\n\ns2<｜User｜>u1");
  EXPECT_EQ(render_chat(ChatFormat::DeepSeekR1, m, true), kBos + "s1\n\ns2<｜User｜>u1<｜Assistant｜>");
}

TEST(ChatTemplate, EmptyConversation) {
  EXPECT_EQ(render_chat(ChatFormat::DeepSeekV3, {}, true), kBos + "<｜Assistant｜>");
  EXPECT_EQ(render_chat(ChatFormat::KimiK2, {}, true), "<|im_assistant|>assistant<|im_middle|>");
  EXPECT_EQ(render_chat(ChatFormat::KimiK2, {}, false), "");
}

TEST(ChatTemplate, R1KeepsOnlyTextAfterLastThinkEnd) {
  const std::vector<ChatMessage> m = {{"user", "q"},
                                      {"assistant", "<think>a</think>mid</think>\n\nanswer"},
                                      {"user", "q2"}};
  EXPECT_EQ(render_chat(ChatFormat::DeepSeekR1, m, true),
            kBos + "<｜User｜>q<｜Assistant｜>\n\nanswer<｜end▁of▁sentence｜><｜User｜>q2<｜Assistant｜>");
  // V3's template has no such rule.
  EXPECT_EQ(render_chat(ChatFormat::DeepSeekV3, m, false),
            kBos + "<｜User｜>q<｜Assistant｜><think>a</think>mid</think>\n\nanswer<｜end▁of▁sentence｜><｜User｜>q2");
}

TEST(ChatTemplate, DeepSeekToolOutputs) {
  const std::vector<ChatMessage> m = {{"user", "q"}, {"tool", "t1"}, {"tool", "t2"}, {"assistant", "a"},
                                      {"tool", "t3"}};
  // V3 joins later outputs with a newline, R1 does not; the first-output flag
  // is never reset, so t3 does not reopen <｜tool▁outputs▁begin｜>; a trailing
  // tool turn closes the outputs and suppresses the generation prompt.
  EXPECT_EQ(render_chat(ChatFormat::DeepSeekV3, m, true),
            kBos +
                "<｜User｜>q<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>t1<｜tool▁output▁end｜>\n<｜tool▁output▁begin｜>t2"
                "<｜tool▁output▁end｜><｜tool▁outputs▁end｜>a<｜end▁of▁sentence｜>\n<｜tool▁output▁begin｜>t3<｜tool▁output▁end｜>"
                "<｜tool▁outputs▁end｜>");
  EXPECT_EQ(render_chat(ChatFormat::DeepSeekR1, m, true),
            kBos +
                "<｜User｜>q<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>t1<｜tool▁output▁end｜><｜tool▁output▁begin｜>t2"
                "<｜tool▁output▁end｜><｜tool▁outputs▁end｜>a<｜end▁of▁sentence｜><｜tool▁output▁begin｜>t3<｜tool▁output▁end｜>"
                "<｜tool▁outputs▁end｜>");
}

TEST(ChatTemplate, KimiDefaultSystemPromptOnlyWithoutLeadingSystemTurn) {
  EXPECT_EQ(render_chat(ChatFormat::KimiK2, {{"user", "hi"}}, false),
            "<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|><|im_user|>user<|im_middle|>hi<|im_end|>");
  EXPECT_EQ(render_chat(ChatFormat::KimiK2, {{"system", "S"}, {"user", "hi"}, {"tool", "r"}}, true),
            "<|im_system|>system<|im_middle|>S<|im_end|><|im_user|>user<|im_middle|>hi<|im_end|>"
            "<|im_system|>tool<|im_middle|>r<|im_end|><|im_assistant|>assistant<|im_middle|>");
  // A system turn that is not first does not suppress the default one.
  EXPECT_EQ(render_chat(ChatFormat::KimiK2, {{"user", "a"}, {"system", "S"}}, false),
            "<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|><|im_user|>user<|im_middle|>a<|im_end|>"
            "<|im_system|>system<|im_middle|>S<|im_end|>");
}

TEST(ChatTemplate, UnknownRoleIsAnError) {
  for (const auto f : {ChatFormat::DeepSeekV3, ChatFormat::DeepSeekR1, ChatFormat::KimiK2}) {
    try {
      render_chat(f, {{"user", "a"}, {"narrator", "b"}}, true);
      FAIL() << "expected Error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("narrator"), std::string::npos) << e.what();
    }
  }
}

TEST(ChatTemplate, DetectsFormatFromTemplateSource) {
  const auto tpl = [](const std::string& name) {
    return nlohmann::json::parse(read_text_file(tokenizer_dir(name) + "/tokenizer_config.json"))["chat_template"]
        .get<std::string>();
  };
  EXPECT_EQ(detect_chat_format(tpl("deepseek-v3")), ChatFormat::DeepSeekV3);
  EXPECT_EQ(detect_chat_format(tpl("deepseek-r1")), ChatFormat::DeepSeekR1);
  EXPECT_EQ(detect_chat_format(tpl("kimi-k2")), ChatFormat::KimiK2);
  EXPECT_EQ(detect_chat_format("{{ messages }}"), std::nullopt);
}

TEST(ChatTemplate, ChatIdsStartWithBosForDeepSeek) {
  const auto& tok = shared_tokenizer("deepseek-r1");
  const auto ids = encode_chat(tok, {{"user", "hi"}}, true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), tok.bos_id());
  EXPECT_EQ(ids.back(), tok.special_token_id("<｜Assistant｜>"));
}

}  // namespace
}  // namespace dsinfer::test
