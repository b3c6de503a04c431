// Kimi's reference encodes text in pieces: at most 400k code points at a
// time, and runs of whitespace or non-whitespace cut every 25k code points
// (Python str.isspace decides what is whitespace). A cut changes the ids.
#include <gtest/gtest.h>

#include "tokenizer_test_util.h"

namespace dsinfer::test {
namespace {

std::vector<int32_t> concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(KimiChunking, NonWhitespaceRunIsCutAfter25000CodePoints) {
  const auto& tok = shared_tokenizer("kimi-k2");
  // 25002 letters: the cut falls between "b" and "cd", where it matters.
  const std::string head = repeat("a", 24999);
  const auto cut_at_25000 = concat(tok.encode(head + "b"), tok.encode("cd"));
  ASSERT_NE(cut_at_25000, concat(tok.encode(head), tok.encode("bcd")));
  EXPECT_EQ(tok.encode(head + "bcd"), cut_at_25000);
  // Counted in code points, not bytes ('é' is 2 bytes).
  const std::string accents = repeat("é", 24999);
  EXPECT_EQ(tok.encode(accents + "bcd"), concat(tok.encode(accents + "b"), tok.encode("cd")));
  // DeepSeek's reference has no such rule: the run stays one piece.
  const auto& ds = shared_tokenizer("deepseek-v3");
  EXPECT_NE(ds.encode(head + "bcd"), concat(ds.encode(head + "b"), ds.encode("cd")));
}

TEST(KimiChunking, RunLengthRestartsWhenSpaceAlternates) {
  const auto& tok = shared_tokenizer("kimi-k2");
  // 20000 letters, a space, 20000 letters: no run exceeds 25000, no cut.
  const std::string text = repeat("b", 20000) + " " + repeat("b", 20000);
  EXPECT_EQ(tok.encode(text), concat(tok.encode(repeat("b", 20000)), tok.encode(" " + repeat("b", 20000))));
  // U+001C is whitespace to Python's isspace() (though not to the regex), so
  // it restarts the run: no cut. With '-' instead, the run reaches 25001
  // code points at the 'c' and is cut there.
  const auto text_with = [](const std::string& sep) { return repeat("a", 15000) + sep + repeat("a", 9998) + "bcd"; };
  const auto cut_before_c = [&](const std::string& t) { return concat(tok.encode(t.substr(0, t.size() - 2)), tok.encode("cd")); };
  ASSERT_NE(tok.encode(text_with("\x1c")), cut_before_c(text_with("\x1c")));
  EXPECT_EQ(tok.encode(text_with("-")), cut_before_c(text_with("-")));
}

}  // namespace
}  // namespace dsinfer::test
