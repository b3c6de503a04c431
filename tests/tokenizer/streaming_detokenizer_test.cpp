// Streaming decode never emits broken UTF-8 and adds up to decode().
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/streaming_detokenizer.h"
#include "io/utf8.h"
#include "tokenizer_test_util.h"

namespace dsinfer::test {
namespace {

// Streams ids one at a time; every piece must be valid UTF-8.
std::string stream(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  StreamingDetokenizer s(tok);
  std::string all;
  for (const int32_t id : ids) {
    const std::string piece = s.push(id);
    EXPECT_EQ(utf8::find_invalid(piece), std::string::npos) << "broken UTF-8 emitted after id " << id;
    all += piece;
  }
  all += s.finish();
  return all;
}

class Streaming : public ::testing::TestWithParam<const char*> {};

TEST_P(Streaming, GoldenIdListsStreamBackToText) {
  const std::string family = GetParam();
  const auto& tok = shared_tokenizer(family);
  const auto& g = tokenizer_golden().at(family);
  for (const char* set : {"encode", "fuzz"})
    for (const auto& c : g.at(set)) EXPECT_EQ(stream(tok, c.at("ids").get<std::vector<int32_t>>()), c.at("text").get<std::string>());
  EXPECT_EQ(stream(tok, g.at("long_text_ids").get<std::vector<int32_t>>()), tokenizer_golden().at("long_text").get<std::string>());
}

TEST_P(Streaming, HoldsBackSplitCharacter) {
  const auto& tok = shared_tokenizer(GetParam());
  // Byte-level tokens split this emoji (4 bytes) over several ids.
  const auto ids = tok.encode("x🇨🇳y");
  StreamingDetokenizer s(tok);
  std::string out;
  bool held = false;
  for (const int32_t id : ids) {
    const std::string piece = s.push(id);
    held = held || s.pending_bytes() > 0;
    EXPECT_EQ(utf8::find_invalid(piece), std::string::npos);
    out += piece;
  }
  EXPECT_TRUE(held) << "expected a token boundary inside a character";
  EXPECT_EQ(out + s.finish(), "x🇨🇳y");
}

TEST_P(Streaming, RandomIdsMatchDecodeAndStayValid) {
  const auto& tok = shared_tokenizer(GetParam());
  std::mt19937 rng(7);
  // Single-byte tokens make invalid and incomplete sequences likely.
  std::vector<int32_t> byte_tokens;
  for (int32_t id = 0; id < tok.vocab_size() && byte_tokens.size() < 4096; ++id) {
    try {
      if (tok.token_bytes(id).size() <= 2) byte_tokens.push_back(id);
    } catch (const std::exception&) {
    }
  }
  ASSERT_GT(byte_tokens.size(), 300u);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<int32_t> ids(1 + rng() % 12);
    for (auto& id : ids) id = byte_tokens[rng() % byte_tokens.size()];
    EXPECT_EQ(stream(tok, ids), tok.decode(ids));
  }
}

TEST_P(Streaming, UnfinishedCharacterBecomesReplacementAtFinish) {
  const auto& tok = shared_tokenizer(GetParam());
  // The token holding just 0xE2, the first byte of a 3-byte character.
  StreamingDetokenizer s(tok);
  std::optional<int32_t> lead;
  for (int32_t id = 0; id < tok.vocab_size() && !lead; ++id) {
    try {
      if (tok.token_bytes(id) == "\xE2") lead = id;
    } catch (const std::exception&) {
    }
  }
  ASSERT_TRUE(lead);
  EXPECT_EQ(s.push(*lead), "");
  EXPECT_EQ(s.pending_bytes(), 1u);
  EXPECT_EQ(s.finish(), "\xEF\xBF\xBD");
  EXPECT_EQ(tok.decode(std::vector<int32_t>{*lead}), "\xEF\xBF\xBD");
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, Streaming, ::testing::Values("deepseek-v3", "kimi-k2"),
                         [](const auto& info) { return std::string(info.param[0] == 'd' ? "DeepSeek" : "Kimi"); });

}  // namespace
}  // namespace dsinfer::test
