// Streamed output text: stop strings are matched across token boundaries
// and never emitted, held-back text is released at a character boundary,
// and the reasoning split of R1-style output.
#include <gtest/gtest.h>

#include "server/output_text.h"
#include "support/test_support.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer::server {
namespace {

const Tokenizer& deepseek() {
  static const auto t = load_tokenizer(test::data_path("tokenizers/deepseek-v3"));
  return *t;
}

struct Streamed {
  std::string content, reasoning;
  bool stopped = false;
  size_t tokens_taken = 0;
};

// Feeds the tokens of `text` one by one, as the engine would produce them.
Streamed stream(const std::string& text, std::vector<std::string> stop, std::optional<bool> reasoning) {
  OutputText out(deepseek(), std::move(stop), reasoning);
  Streamed s;
  for (int32_t id : deepseek().encode(text)) {
    ++s.tokens_taken;
    const auto d = out.push(id);
    s.content += d.content;
    s.reasoning += d.reasoning;
    if (d.stopped) {
      s.stopped = true;
      break;
    }
  }
  if (!s.stopped) {
    const auto d = out.finish();
    s.content += d.content;
    s.reasoning += d.reasoning;
    s.stopped = d.stopped;
  }
  EXPECT_EQ(s.content, out.content());
  EXPECT_EQ(s.reasoning, out.reasoning());
  return s;
}

TEST(OutputText, WithoutStopStringsTheTextIsTheDecodedTokens) {
  const std::string text = "Hello, world! 你好，世界。 🙂 tokens";
  const auto s = stream(text, {}, std::nullopt);
  EXPECT_EQ(s.content, text);
  EXPECT_FALSE(s.stopped);
}

TEST(OutputText, StopStringAcrossTokensIsCutAndNeverEmitted) {
  const std::string text = "The answer is forty-two. Then more text follows.";
  for (const std::string stop : {"forty-two", "y-t", ". Then", "follows."}) {
    const auto s = stream(text, {stop, "never appears"}, std::nullopt);
    EXPECT_TRUE(s.stopped) << stop;
    EXPECT_EQ(s.content, text.substr(0, text.find(stop))) << stop;
  }
  // The earliest of several stop strings wins.
  EXPECT_EQ(stream(text, {"more", "is"}, std::nullopt).content, "The answer ");
}

TEST(OutputText, StopsAsSoonAsTheStopStringIsComplete) {
  const std::string text = "alpha beta gamma delta epsilon";
  const auto s = stream(text, {"gamma"}, std::nullopt);
  const size_t all = deepseek().encode(text).size();
  EXPECT_LT(s.tokens_taken, all);  // the rest was never needed
}

TEST(OutputText, HeldBackTextEndsOnACharacterBoundary) {
  // A stop string longer than the text after a multi-byte character.
  const auto s = stream("价格是五元", {"not in the text at all"}, std::nullopt);
  EXPECT_EQ(s.content, "价格是五元");
}

TEST(OutputText, ReasoningIsSplitFromContent) {
  const auto forced = stream("I think step by step.</think>The result is 4.", {}, true);
  EXPECT_NE(forced.reasoning.find("I think step by step."), std::string::npos);
  EXPECT_EQ(forced.reasoning.find("</think>"), std::string::npos);
  EXPECT_NE(forced.content.find("The result is 4."), std::string::npos);
  EXPECT_EQ(forced.content.find("step by step"), std::string::npos);
  // A stop string inside the answer still cuts it.
  const auto cut = stream("Reasoning here.</think>Answer: yes. More.", {" More"}, true);
  EXPECT_NE(cut.content.find("Answer: yes."), std::string::npos);
  EXPECT_EQ(cut.content.find("More"), std::string::npos);
}

}  // namespace
}  // namespace dsinfer::server

namespace dsinfer::server {
namespace {

TEST(OutputText, ToolCallsAreParsedOutOfTheAnswer) {
  const std::string text =
      "Let me check.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
      "{\"city\": \"北京\", \"days\": [1, 2]}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
  OutputText out(deepseek(), {}, std::nullopt, ToolCallFormat::DeepSeekV3);
  std::vector<ToolCallDelta> streamed;
  std::string content;
  for (int32_t id : deepseek().encode(text)) {
    const auto d = out.push(id);
    content += d.content;
    streamed.insert(streamed.end(), d.calls.begin(), d.calls.end());
  }
  const auto f = out.finish();
  content += f.content;
  streamed.insert(streamed.end(), f.calls.begin(), f.calls.end());
  EXPECT_EQ(content, "Let me check.");
  ASSERT_EQ(out.calls().size(), 1u);
  EXPECT_EQ(out.calls()[0].name, "get_weather");
  EXPECT_EQ(out.calls()[0].arguments, "{\"city\": \"北京\", \"days\": [1, 2]}");
  ASSERT_EQ(streamed.size(), 1u);
  EXPECT_EQ(streamed[0].name, "get_weather");
  EXPECT_EQ(streamed[0].arguments_fragment, out.calls()[0].arguments);
}

TEST(OutputText, AMalformedToolCallComesBackAsContent) {
  const std::string text = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{not json}\n```"
                           "<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
  OutputText out(deepseek(), {}, std::nullopt, ToolCallFormat::DeepSeekV3);
  std::string content;
  for (int32_t id : deepseek().encode(text)) content += out.push(id).content;
  content += out.finish().content;
  EXPECT_TRUE(out.calls().empty());
  EXPECT_NE(content.find("{not json}"), std::string::npos);
}

// tool_choice required / named: the server primes the answer with the
// call's opening; the model's continuation completes the call.
const Tokenizer& kimi() {
  static const auto t = load_tokenizer(test::data_path("tokenizers/kimi-k2"));
  return *t;
}

TEST(OutputText, AForcedCallOpeningIsCompletedByTheModel) {
  struct Case {
    const Tokenizer& tok;
    ToolCallFormat format;
    std::string name;          // "" = required (the model names the function)
    std::string continuation;  // what the model writes after the forced opening
    std::optional<bool> reasoning;
    std::string primed_prefix;  // server text before the opening
  };
  const std::vector<Case> cases{
      {deepseek(), ToolCallFormat::DeepSeekV3, "get_weather",
       "{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>", std::nullopt, ""},
      {deepseek(), ToolCallFormat::DeepSeekV3, "",
       "get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>", std::nullopt, ""},
      // R1: the template opened <think>; the server closes it before the call.
      {deepseek(), ToolCallFormat::DeepSeekV3, "get_weather",
       "{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>", true, "</think>\n\n"},
      {kimi(), ToolCallFormat::KimiK2, "get_weather",
       "{\"city\": \"Paris\"}<|tool_call_end|><|tool_calls_section_end|>", std::nullopt, ""},
      {kimi(), ToolCallFormat::KimiK2, "", "get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\"}"
       "<|tool_call_end|><|tool_calls_section_end|>", std::nullopt, ""},
  };
  for (const auto& c : cases) {
    OutputText out(c.tok, {}, c.reasoning, c.format);
    out.prime(c.primed_prefix + forced_call_prefix(c.format, c.name));
    std::string content, reasoning;
    for (int32_t id : c.tok.encode(c.continuation)) {
      const auto d = out.push(id);
      content += d.content;
      reasoning += d.reasoning;
    }
    const auto f = out.finish();
    content += f.content;
    reasoning += f.reasoning;
    EXPECT_EQ(content, "") << c.continuation;
    EXPECT_EQ(reasoning, "") << c.continuation;
    ASSERT_EQ(out.calls().size(), 1u) << c.continuation;
    EXPECT_EQ(out.calls()[0].name, "get_weather");
    EXPECT_EQ(out.calls()[0].arguments, "{\"city\": \"Paris\"}");
    if (c.format == ToolCallFormat::KimiK2) {
      EXPECT_EQ(out.calls()[0].id, "functions.get_weather:0");
    }
  }
}

}  // namespace
}  // namespace dsinfer::server
