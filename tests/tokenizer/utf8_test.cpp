// Invalid UTF-8 input is rejected with a clear error (never a crash), and
// decoding replaces invalid byte sequences with U+FFFD.
#include <gtest/gtest.h>

#include "io/error.h"
#include "io/utf8.h"
#include "tokenizer_test_util.h"

namespace dsinfer::test {
namespace {

const std::vector<std::pair<std::string, size_t>> kInvalid = {
    {"ok\x80", 2},                // lone continuation byte
    {"\xC0\x80", 0},              // overlong NUL
    {"a\xC1\xBF", 1},             // overlong
    {"\xE0\x80\x80", 0},          // overlong 3-byte
    {"x\xED\xA0\x80", 1},         // UTF-16 surrogate
    {"\xF4\x90\x80\x80", 0},      // above U+10FFFF
    {"\xF5\x80\x80\x80", 0},      // invalid lead
    {"\xFF", 0},                  //
    {"abc\xE4\xBD", 3},           // truncated at the end
    {"\xE4\xBD" "a", 0},          // truncated in the middle
    {"good text \xF0\x9F\x98", 10},
};

TEST(Utf8, FindInvalidReportsOffset) {
  for (const auto& [text, offset] : kInvalid) EXPECT_EQ(utf8::find_invalid(text), offset) << "offset " << offset;
  EXPECT_EQ(utf8::find_invalid("plain ascii, 中文, 😀, \U0010FFFF, and a NUL \0 byte"), std::string::npos);
  EXPECT_EQ(utf8::find_invalid(std::string("a\0b", 3)), std::string::npos);
}

class InvalidInput : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidInput, EncodeThrowsErrorNamingTheByte) {
  const auto& tok = shared_tokenizer(GetParam());
  for (const auto& [text, offset] : kInvalid) {
    try {
      tok.encode(text);
      FAIL() << "expected Error for invalid UTF-8";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("invalid UTF-8 at byte " + std::to_string(offset)), std::string::npos)
          << e.what();
    }
  }
}

TEST_P(InvalidInput, NulAndLongestCodePointRoundTrip) {
  const auto& tok = shared_tokenizer(GetParam());
  const std::string text("a\0b \U0010FFFF \x7F", 10);
  EXPECT_EQ(tok.decode(tok.encode(text)), text);
}

TEST_P(InvalidInput, DecodeOfUnknownIdThrows) {
  const auto& tok = shared_tokenizer(GetParam());
  for (const int32_t id : {-1, tok.vocab_size(), 1 << 30}) {
    EXPECT_THROW(tok.decode(std::vector<int32_t>{id}), Error) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, InvalidInput, ::testing::Values("deepseek-v3", "kimi-k2"),
                         [](const auto& info) { return std::string(info.param[0] == 'd' ? "DeepSeek" : "Kimi"); });

TEST(Utf8, LossyReplacesMaximalInvalidSubparts) {
  const auto lossy = [](std::string_view s) {
    std::string out;
    utf8::append_lossy(out, s);
    return out;
  };
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(lossy("a\x80" "b"), "a" + r + "b");
  EXPECT_EQ(lossy("\xE4\xBD" "a"), r + "a");              // one U+FFFD for a truncated sequence
  EXPECT_EQ(lossy("\xED\xA0\x80"), r + r + r);            // surrogate: each byte separately
  EXPECT_EQ(lossy("\xF0\x9F\x98"), r);                     // truncated 4-byte sequence
  EXPECT_EQ(lossy("\xC0\xAF"), r + r);                     // overlong
  EXPECT_EQ(lossy("ok 中文"), "ok 中文");
}

TEST(Utf8, IncompleteTailCountsOnlyCompletableBytes) {
  EXPECT_EQ(utf8::incomplete_tail("a\xE4\xBD"), 2u);
  EXPECT_EQ(utf8::incomplete_tail("a\xF0\x9F\x98"), 3u);
  EXPECT_EQ(utf8::incomplete_tail("a\xF0"), 1u);
  EXPECT_EQ(utf8::incomplete_tail("a\xE4\xBD\xA0"), 0u);  // complete
  EXPECT_EQ(utf8::incomplete_tail("a\xED\xA0"), 0u);      // can never become valid
  EXPECT_EQ(utf8::incomplete_tail("a\x80"), 0u);
  EXPECT_EQ(utf8::incomplete_tail(""), 0u);
}

}  // namespace
}  // namespace dsinfer::test
