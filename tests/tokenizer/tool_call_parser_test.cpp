// Tool calls come out of canned Kimi-K2 and DeepSeek-V3 outputs the same way
// however the text is cut into pieces; malformed calls fall back to content.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "io/error.h"
#include "tokenizer/tool_call_parser.h"
#include "io/utf8.h"
#include "stream_splits.h"

namespace dsinfer {
// Readable gtest failure messages (found by argument-dependent lookup).
inline void PrintTo(const ToolCall& c, std::ostream* os) {
  *os << "{" << c.index << ", \"" << c.id << "\", \"" << c.name << "\", \"" << c.arguments << "\"}";
}
inline void PrintTo(const ToolCallDelta& c, std::ostream* os) {
  *os << "{" << c.index << ", \"" << c.id << "\", \"" << c.name << "\", \"" << c.arguments_fragment << "\"}";
}
}  // namespace dsinfer

namespace dsinfer::test {
namespace {

using F = ToolCallFormat;

struct Outcome {
  std::string content;
  std::vector<ToolCall> calls;
};

// Feeds the pieces, then finish(). Rebuilds the calls from the deltas the way
// an OpenAI client does and checks they add up to calls().
Outcome run(ToolCallFormat format, const std::vector<std::string>& pieces) {
  ToolCallParser parser(format);
  Outcome out;
  std::vector<ToolCall> streamed;
  auto absorb = [&](const ToolCallParser::Delta& d) {
    EXPECT_EQ(utf8::find_invalid(d.content), std::string::npos) << "split character in content delta";
    out.content += d.content;
    for (const auto& c : d.calls) {
      if (c.index == static_cast<int>(streamed.size())) {
        EXPECT_FALSE(c.id.empty()) << "first delta of a call carries its id";
        EXPECT_FALSE(c.name.empty()) << "first delta of a call carries its name";
        streamed.push_back({c.index, c.id, c.name, ""});
      } else if (c.index >= 0 && c.index < static_cast<int>(streamed.size())) {
        EXPECT_TRUE(c.id.empty() && c.name.empty()) << "only the first delta of a call carries id and name";
      } else {
        ADD_FAILURE() << "delta for call " << c.index << " out of order";
        continue;
      }
      streamed[c.index].arguments += c.arguments_fragment;
    }
  };
  for (const auto& piece : pieces) absorb(parser.feed(piece));
  absorb(parser.finish());
  EXPECT_EQ(streamed, parser.calls()) << "streamed deltas must add up to calls()";
  out.calls = parser.calls();
  return out;
}

struct Case {
  const char* name;
  ToolCallFormat format;
  std::string text;
  std::string content;
  std::vector<ToolCall> calls;
};

// Names the case in failure messages instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// Expected values are written from the format definitions, not from runs.
const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      // ---- Kimi-K2 ----
      {"KimiOneCall", F::KimiK2,
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>"
       "{\"city\": \"Beijing\", \"unit\": \"celsius\"}<|tool_call_end|><|tool_calls_section_end|>",
       "",
       {{0, "functions.get_weather:0", "get_weather", "{\"city\": \"Beijing\", \"unit\": \"celsius\"}"}}},
      {"KimiTextThenSeveralCalls", F::KimiK2,
       "I'll check both cities.<|tool_calls_section_begin|>"
       "<|tool_call_begin|>functions.get_weather:3<|tool_call_argument_begin|>{\"city\":\"Paris\"}<|tool_call_end|>"
       "<|tool_call_begin|>functions.get_weather:4<|tool_call_argument_begin|>{\"city\":\"Tokyo\"}<|tool_call_end|>"
       "<|tool_call_begin|>functions.get_time:5<|tool_call_argument_begin|>{}<|tool_call_end|>"
       "<|tool_calls_section_end|>",
       "I'll check both cities.",
       {{0, "functions.get_weather:3", "get_weather", "{\"city\":\"Paris\"}"},
        {1, "functions.get_weather:4", "get_weather", "{\"city\":\"Tokyo\"}"},
        {2, "functions.get_time:5", "get_time", "{}"}}},
      // Whitespace around markers; names with '.' and ':'; nested, non-ASCII.
      {"KimiNestedNonAscii", F::KimiK2,
       "<|tool_calls_section_begin|>\n<|tool_call_begin|> functions.db.query:0 <|tool_call_argument_begin|> "
       "{\"sql\": {\"table\": \"用户\", \"where\": [{\"name\": \"李雷\"}, {\"mood\": \"😀🎉\"}]}, "
       "\"opts\": {\"a<b\": [1, [2, {\"c\": null}]], \"e\": \"\\u00e9\"}} <|tool_call_end|>\n"
       "<|tool_call_begin|>functions.ns:search:1<|tool_call_argument_begin|>{\"q\": \"天气 🌦️\"}<|tool_call_end|>"
       "\n<|tool_calls_section_end|>",
       "",
       {{0, "functions.db.query:0", "db.query",
         "{\"sql\": {\"table\": \"用户\", \"where\": [{\"name\": \"李雷\"}, {\"mood\": \"😀🎉\"}]}, "
         "\"opts\": {\"a<b\": [1, [2, {\"c\": null}]], \"e\": \"\\u00e9\"}}"},
        {1, "functions.ns:search:1", "ns:search", "{\"q\": \"天气 🌦️\"}"}}},
      {"KimiTextAfterSection", F::KimiK2,
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{\"a\": [1]}"
       "<|tool_call_end|><|tool_calls_section_end|>Done.",
       "Done.",
       {{0, "functions.f:0", "f", "{\"a\": [1]}"}}},
      {"KimiTwoSections", F::KimiK2,
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.a:0<|tool_call_argument_begin|>{}<|tool_call_end|>"
       "<|tool_calls_section_end|>Then <|tool_calls_section_begin|><|tool_call_begin|>functions.b:1"
       "<|tool_call_argument_begin|>{\"x\": true}<|tool_call_end|><|tool_calls_section_end|>",
       "Then ",
       {{0, "functions.a:0", "a", "{}"}, {1, "functions.b:1", "b", "{\"x\": true}"}}},
      // Good calls without the section end: only the trailing text is content.
      {"KimiMissingSectionEnd", F::KimiK2,
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}<|tool_call_end|>\n",
       "\n",
       {{0, "functions.f:0", "f", "{}"}}},
      {"KimiNoCalls", F::KimiK2,
       "Hello! a < b, <|im_end and <|tool_calls_section_beg are not markers; nor is <|tool_call_begin|> outside "
       "a section, nor <|tool_calls_section_end|>.",
       "Hello! a < b, <|im_end and <|tool_calls_section_beg are not markers; nor is <|tool_call_begin|> outside "
       "a section, nor <|tool_calls_section_end|>.",
       {}},
      {"KimiBadJson", F::KimiK2,
       "Sure.<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{\"a\": 1,}"
       "<|tool_call_end|><|tool_calls_section_end|>",
       "Sure.<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{\"a\": 1,}"
       "<|tool_call_end|><|tool_calls_section_end|>",
       {}},
      {"KimiArgumentsNotAnObject", F::KimiK2,
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>[1, 2]"
       "<|tool_call_end|><|tool_calls_section_end|>",
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>[1, 2]"
       "<|tool_call_end|><|tool_calls_section_end|>",
       {}},
      {"KimiTruncated", F::KimiK2,
       "Checking.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>"
       "{\"city\": \"Ber",
       "Checking.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>"
       "{\"city\": \"Ber",
       {}},
      {"KimiTruncatedAfterSectionBegin", F::KimiK2, "Checking.<|tool_calls_section_begin|><|tool_call_be",
       "Checking.<|tool_calls_section_begin|><|tool_call_be", {}},
      // The good first call stays; the rest, raw, becomes content.
      {"KimiGoodThenBad", F::KimiK2,
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.a:0<|tool_call_argument_begin|>{\"x\": 1}"
       "<|tool_call_end|><|tool_call_begin|>functions.b:1<|tool_call_argument_begin|>{\"y\": [1, 2}<|tool_call_end|>"
       "<|tool_calls_section_end|> after",
       "<|tool_call_begin|>functions.b:1<|tool_call_argument_begin|>{\"y\": [1, 2}<|tool_call_end|>"
       "<|tool_calls_section_end|> after",
       {{0, "functions.a:0", "a", "{\"x\": 1}"}}},
      {"KimiUnknownMarker", F::KimiK2,
       "<|tool_calls_section_begin|><|tool_call_start|>functions.a:0<|tool_call_argument_begin|>{}<|tool_call_end|>"
       "<|tool_calls_section_end|>",
       "<|tool_calls_section_begin|><|tool_call_start|>functions.a:0<|tool_call_argument_begin|>{}<|tool_call_end|>"
       "<|tool_calls_section_end|>",
       {}},
      {"KimiIdWithoutFunctionsPrefix", F::KimiK2,
       "<|tool_calls_section_begin|><|tool_call_begin|>get_weather:0<|tool_call_argument_begin|>{}<|tool_call_end|>"
       "<|tool_calls_section_end|>",
       "<|tool_calls_section_begin|><|tool_call_begin|>get_weather:0<|tool_call_argument_begin|>{}<|tool_call_end|>"
       "<|tool_calls_section_end|>",
       {}},
      {"KimiIdWithoutIndex", F::KimiK2,
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:x<|tool_call_argument_begin|>{}<|tool_call_end|>"
       "<|tool_calls_section_end|>",
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:x<|tool_call_argument_begin|>{}<|tool_call_end|>"
       "<|tool_calls_section_end|>",
       {}},
      {"KimiMissingArgumentMarker", F::KimiK2,
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0{}<|tool_call_end|><|tool_calls_section_end|>",
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0{}<|tool_call_end|><|tool_calls_section_end|>",
       {}},

      // ---- DeepSeek-V3/R1 ----
      {"DeepSeekOneCall", F::DeepSeekV3,
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
       "{\"location\": \"Beijing\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       "",
       {{0, "call_0", "get_weather", "{\"location\": \"Beijing\"}"}}},
      // As the chat template writes them: a newline between calls.
      {"DeepSeekTextThenSeveralCalls", F::DeepSeekV3,
       "Let me look that up.\n\n<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>search\n```json\n"
       "{\"q\": \"weather\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n"
       "```json\n{\"tz\": \"UTC\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>noop\n"
       "```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       "Let me look that up.\n\n",
       {{0, "call_0", "search", "{\"q\": \"weather\"}"},
        {1, "call_1", "get_time", "{\"tz\": \"UTC\"}"},
        {2, "call_2", "noop", "{}"}}},
      // Pretty-printed, nested, non-ASCII, and a ``` inside a string.
      {"DeepSeekNestedNonAscii", F::DeepSeekV3,
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>translate\n```json\n{\n"
       "  \"text\": \"你好，世界 👋🏽\",\n  \"meta\": {\"langs\": [\"zh\", \"en\"], \"code\": "
       "\"```py\\nprint(1)\\n```\", \"n\": [[{}], -1.5e3]}\n}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       "",
       {{0, "call_0", "translate",
         "{\n  \"text\": \"你好，世界 👋🏽\",\n  \"meta\": {\"langs\": [\"zh\", \"en\"], \"code\": "
         "\"```py\\nprint(1)\\n```\", \"n\": [[{}], -1.5e3]}\n}"}}},
      {"DeepSeekNoCalls", F::DeepSeekV3,
       "普通的回答 <｜tool▁calls and <｜end▁of▁sentence are not markers; <｜tool▁call▁begin｜> outside a section "
       "is text.",
       "普通的回答 <｜tool▁calls and <｜end▁of▁sentence are not markers; <｜tool▁call▁begin｜> outside a section "
       "is text.",
       {}},
      {"DeepSeekBadJson", F::DeepSeekV3,
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
       "{\"location\": Beijing}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
       "{\"location\": Beijing}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       {}},
      {"DeepSeekTruncated", F::DeepSeekV3,
       "Hmm.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"loc",
       "Hmm.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"loc", {}},
      {"DeepSeekMissingFence", F::DeepSeekV3,
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n{\"a\": 1}"
       "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n{\"a\": 1}"
       "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
       {}},
      {"DeepSeekWrongType", F::DeepSeekV3,
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>tool<｜tool▁sep｜>x\n```json\n{}\n```<｜tool▁call▁end｜>"
       "<｜tool▁calls▁end｜>",
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>tool<｜tool▁sep｜>x\n```json\n{}\n```<｜tool▁call▁end｜>"
       "<｜tool▁calls▁end｜>",
       {}},
      {"DeepSeekGoodThenTruncated", F::DeepSeekV3,
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>a\n```json\n{\"k\": \"ü\"}\n```"
       "<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>b\n```json\n{\"k\": ",
       "\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>b\n```json\n{\"k\": ",
       {{0, "call_0", "a", "{\"k\": \"ü\"}"}}},
      // Kimi markers mean nothing to the DeepSeek parser, and vice versa.
      {"DeepSeekIgnoresKimiMarkers", F::DeepSeekV3,
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}<|tool_call_end|>",
       "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}<|tool_call_end|>",
       {}},
      {"KimiIgnoresDeepSeekMarkers", F::KimiK2,
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>a\n```json\n{}\n```<｜tool▁call▁end｜>",
       "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>a\n```json\n{}\n```<｜tool▁call▁end｜>",
       {}},
  };
  return all;
}

class ToolCallCase : public ::testing::TestWithParam<Case> {};

TEST_P(ToolCallCase, SameResultForEverySplit) {
  const Case& c = GetParam();
  ASSERT_EQ(utf8::find_invalid(c.text), std::string::npos);
  for (const auto& pieces : splittings(c.text)) {
    const Outcome got = run(c.format, pieces);
    EXPECT_EQ(got.content, c.content) << describe_split(pieces);
    EXPECT_EQ(got.calls, c.calls) << describe_split(pieces);
    if (got.content != c.content || got.calls != c.calls) return;  // one report per case is enough
  }
}

INSTANTIATE_TEST_SUITE_P(Canned, ToolCallCase, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ToolCallParser, CallIsReportedWhenItsEndMarkerCompletes) {
  ToolCallParser p(F::DeepSeekV3);
  auto d = p.feed("Hi <｜tool▁calls▁be");
  EXPECT_EQ(d.content, "Hi ");  // the partial marker is held back
  d = p.feed("gin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"a\": 1}\n```<｜tool▁call▁en");
  EXPECT_EQ(d.content, "");
  EXPECT_TRUE(d.calls.empty());
  EXPECT_TRUE(p.calls().empty());
  d = p.feed("d｜>");
  ASSERT_EQ(d.calls.size(), 1u);
  EXPECT_EQ(d.calls[0], (ToolCallDelta{0, "call_0", "f", "{\"a\": 1}"}));
  d = p.feed("<｜tool▁calls▁end｜>");
  EXPECT_EQ(d.content, "");
  EXPECT_TRUE(d.calls.empty());
  d = p.finish();
  EXPECT_EQ(d.content, "");
  EXPECT_TRUE(d.calls.empty());
  EXPECT_EQ(p.calls().size(), 1u);
}

TEST(ToolCallParser, FailureIsGivenBackAsSoonAsItIsKnown) {
  ToolCallParser p(F::KimiK2);
  auto d = p.feed("<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{oops}");
  EXPECT_EQ(d.content, "");
  d = p.feed("<|tool_call_end|>");
  EXPECT_EQ(d.content,
            "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{oops}"
            "<|tool_call_end|>");
  EXPECT_TRUE(d.calls.empty());
  // Parsing has stopped: later markers are plain content.
  d = p.feed("<|tool_calls_section_begin|>x");
  EXPECT_EQ(d.content, "<|tool_calls_section_begin|>x");
  EXPECT_TRUE(p.finish().content.empty());
  EXPECT_TRUE(p.calls().empty());
}

TEST(ToolCallParser, PlainContentStreamsAtOnce) {
  ToolCallParser p(F::KimiK2);
  EXPECT_EQ(p.feed("abc").content, "abc");
  EXPECT_EQ(p.feed(" <").content, " ");
  EXPECT_EQ(p.feed("b>").content, "<b>");
  EXPECT_EQ(p.finish().content, "");
}

TEST(ToolCallParser, FeedAfterFinishThrows) {
  ToolCallParser p(F::KimiK2);
  p.finish();
  EXPECT_THROW(p.feed("x"), Error);
}

// A quadratic parser would rescan the growing call body on every piece:
// about 10^12 byte visits here, against a few million when linear.
TEST(ToolCallParser, LinearInOutputLength) {
  const std::string big(2 << 20, 'x');
  const std::string text = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{\"s\": \"" +
                           big + "\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
  const auto start = std::chrono::steady_clock::now();
  ToolCallParser p(F::DeepSeekV3);
  size_t reported = 0;
  for (size_t pos = 0; pos < text.size(); pos += 2) reported += p.feed(text.substr(pos, 2)).calls.size();
  reported += p.finish().calls.size();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(reported, 1u);
  ASSERT_EQ(p.calls().size(), 1u);
  EXPECT_EQ(p.calls()[0].arguments, "{\"s\": \"" + big + "\"}");
  EXPECT_LT(seconds, 10.0);
}

}  // namespace
}  // namespace dsinfer::test
