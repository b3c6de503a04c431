// The reasoning parser splits R1 output into reasoning and content the same
// way however the text is cut into pieces, and holds back partial tags.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "io/error.h"
#include "tokenizer/reasoning_parser.h"
#include "io/utf8.h"
#include "stream_splits.h"

namespace dsinfer::test {
namespace {

struct Split {
  std::string reasoning;
  std::string content;
};

// Feeds the pieces, then finish(); every delta must be whole UTF-8 characters.
Split run(bool starts_in_reasoning, const std::vector<std::string>& pieces) {
  ReasoningParser parser(starts_in_reasoning);
  Split out;
  auto absorb = [&](const ReasoningParser::Delta& d) {
    EXPECT_EQ(utf8::find_invalid(d.reasoning), std::string::npos) << "split character in reasoning delta";
    EXPECT_EQ(utf8::find_invalid(d.content), std::string::npos) << "split character in content delta";
    out.reasoning += d.reasoning;
    out.content += d.content;
  };
  for (const auto& piece : pieces) absorb(parser.feed(piece));
  absorb(parser.finish());
  return out;
}

struct Case {
  const char* name;
  bool starts_in_reasoning;
  std::string text;
  std::string reasoning;
  std::string content;
};

// Names the case in failure messages instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      // The R1 template forced "<think>\n" into the prompt; newlines are kept.
      {"ForcedThink", true, "Okay, 2+2.\nThe sum is 4.\n</think>\n\nThe answer is **4**.",
       "Okay, 2+2.\nThe sum is 4.\n", "\n\nThe answer is **4**."},
      {"OwnThinkTag", false, "<think>\nLet me see.\n</think>\n\nHello!", "\nLet me see.\n", "\n\nHello!"},
      // The model re-emitting the forced tag: it is a tag, not reasoning text.
      {"ForcedThinkRepeated", true, "<think>\nfoo</think>bar", "\nfoo", "bar"},
      {"NoReasoning", false, "Plain answer: a < b, x<y>z, </think-ish <thin", "",
       "Plain answer: a < b, x<y>z, </think-ish <thin"},
      {"ThinkNotAtStartIsContent", false, "Hi <think>x</think> there", "", "Hi <think>x</think> there"},
      {"LookalikeTagIsContent", false, "<thinking>deep</thinking>", "", "<thinking>deep</thinking>"},
      {"CloseTagInContentIsText", false, "</think>x", "", "</think>x"},
      {"TruncatedOpenTag", false, "<think", "", "<think"},
      {"MissingCloseTag", true, "still thinking </thi", "still thinking </thi", ""},
      {"MissingCloseTagAfterOwnOpen", false, "<think>never ends", "never ends", ""},
      {"AngleBracketsInReasoning", true, "if a<b and b>c then </think > or </THINK> or <</think>result <b>bold</b>",
       "if a<b and b>c then </think > or </THINK> or <", "result <b>bold</b>"},
      {"LaterTagsAreContent", false, "<think>r1</think>c1 <think>r2</think> c2", "r1", "c1 <think>r2</think> c2"},
      {"NonAscii", true, "思考中🤔…</think>答案是 42 🎉", "思考中🤔…", "答案是 42 🎉"},
      {"OnlyCloseTag", true, "</think>", "", ""},
      {"EmptyInReasoning", true, "", "", ""},
      {"EmptyInContent", false, "", "", ""},
  };
  return all;
}

class ReasoningCase : public ::testing::TestWithParam<Case> {};

TEST_P(ReasoningCase, SameResultForEverySplit) {
  const Case& c = GetParam();
  for (const auto& pieces : splittings(c.text)) {
    const Split got = run(c.starts_in_reasoning, pieces);
    if (got.reasoning != c.reasoning || got.content != c.content) {
      ADD_FAILURE() << describe_split(pieces) << ": reasoning \"" << got.reasoning << "\" (want \"" << c.reasoning
                    << "\"), content \"" << got.content << "\" (want \"" << c.content << "\")";
      return;  // one report per case is enough
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Canned, ReasoningCase, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ReasoningParser, CloseTagSplitAcrossPiecesIsHeldBack) {
  ReasoningParser p(true);
  auto d = p.feed("abc</thi");
  EXPECT_EQ(d.reasoning, "abc");
  EXPECT_EQ(d.content, "");
  EXPECT_TRUE(p.in_reasoning());
  d = p.feed("nk>\ndef");
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.content, "\ndef");
  EXPECT_FALSE(p.in_reasoning());
  d = p.finish();
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.content, "");
}

TEST(ReasoningParser, HeldBackPrefixThatIsNotATagIsReleased) {
  ReasoningParser p(true);
  EXPECT_EQ(p.feed("a</thi").reasoning, "a");
  EXPECT_EQ(p.feed("s is text").reasoning, "</this is text");
}

TEST(ReasoningParser, ReasoningStreamsBeforeTheCloseTag) {
  ReasoningParser p(true);
  EXPECT_EQ(p.feed("step one, ").reasoning, "step one, ");
  EXPECT_EQ(p.feed("step two <").reasoning, "step two ");  // only the '<' may start a tag
  EXPECT_EQ(p.finish().reasoning, "<");
}

TEST(ReasoningParser, UndecidedStartWaitsForTheOpenTag) {
  ReasoningParser p(false);
  auto d = p.feed("<thi");
  EXPECT_EQ(d.reasoning, "");
  EXPECT_EQ(d.content, "");
  d = p.feed("nk>x");
  EXPECT_EQ(d.reasoning, "x");
  EXPECT_EQ(d.content, "");
  EXPECT_TRUE(p.in_reasoning());
}

TEST(ReasoningParser, SplitCharacterIsHeldBack) {
  ReasoningParser p(false);
  const std::string emoji = "🎉";  // 4 bytes
  auto d = p.feed("ok " + emoji.substr(0, 2));
  EXPECT_EQ(d.content, "ok ");
  d = p.feed(emoji.substr(2));
  EXPECT_EQ(d.content, emoji);
}

TEST(ReasoningParser, FeedAfterFinishThrows) {
  ReasoningParser p(false);
  p.finish();
  EXPECT_THROW(p.feed("x"), Error);
  EXPECT_EQ(p.finish().content, "");
}

}  // namespace
}  // namespace dsinfer::test
