// Guards against super-linear blow-up: a 1 MB string without whitespace must
// encode in time comparable to the 1 MB corpus, and a single 1 MB pre-token
// piece must cost about 4x a 256 KB one (quadratic merging would be 16x).
// Bounds are generous (20x and 10x) so a loaded machine does not make them flaky.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "tokenizer_test_util.h"

namespace dsinfer::test {
namespace {

constexpr size_t kMiB = 1 << 20;

std::string repeat_to(const std::string& unit, size_t size) {
  std::string s;
  while (s.size() < size) s += unit;
  while (size > 0 && (static_cast<unsigned char>(s[size]) & 0xC0) == 0x80) --size;  // keep whole characters
  s.resize(size);
  return s;
}

std::string corpus() { return read_text_file(data_path("tokenizers/long_text.txt")); }

std::string corpus_without_whitespace() {
  std::string out;
  for (char c : corpus())
    if (c != ' ' && c != '\n' && c != '\t' && c != '\r') out += c;
  // U+3000 (ideographic space) is in the corpus too.
  for (size_t p; (p = out.find("\u3000")) != std::string::npos;) out.erase(p, 3);
  return out;
}

std::string random_letters(size_t n) {
  std::mt19937 rng(99);
  std::string s(n, 'a');
  for (auto& c : s) c = static_cast<char>('a' + rng() % 26);
  return s;
}

// Best of `runs` wall-clock timings, in seconds; also checks the result is sane.
double encode_seconds(const Tokenizer& tok, const std::string& text, int runs = 3) {
  double best = 1e30;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = tok.encode(text);
    const auto t1 = std::chrono::steady_clock::now();
    EXPECT_GT(ids.size(), text.size() / 64);
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  return best;
}

class EncodeScaling : public ::testing::TestWithParam<const char*> {};

TEST_P(EncodeScaling, NoSpaceMegabyteComparableToCorpus) {
  const auto& tok = shared_tokenizer(GetParam());
  const std::string normal = repeat_to(corpus(), kMiB), no_space = repeat_to(corpus_without_whitespace(), kMiB);
  ASSERT_EQ(no_space.find(' '), std::string::npos);
  const double t_normal = encode_seconds(tok, normal), t_no_space = encode_seconds(tok, no_space);
  std::printf("[%s] 1 MB corpus: %.1f MB/s, 1 MB without whitespace: %.1f MB/s\n", GetParam(), 1 / t_normal,
              1 / t_no_space);
  EXPECT_LT(t_no_space, 20 * t_normal);
}

TEST_P(EncodeScaling, SinglePieceGrowsQuasiLinearly) {
  const auto& tok = shared_tokenizer(GetParam());
  for (const bool random : {false, true}) {
    const auto make = [&](size_t n) { return random ? random_letters(n) : std::string(n, 'a'); };
    const double t_small = encode_seconds(tok, make(kMiB / 4)), t_large = encode_seconds(tok, make(kMiB), 2);
    std::printf("[%s] %s: 256 KB %.1f ms, 1 MB %.1f ms (x%.1f)\n", GetParam(), random ? "random letters" : "'a' run",
                t_small * 1e3, t_large * 1e3, t_large / t_small);
    EXPECT_LT(t_large, 10 * t_small) << (random ? "random letters" : "'a' run");
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, EncodeScaling, ::testing::Values("deepseek-v3", "kimi-k2"),
                         [](const auto& info) { return std::string(info.param[0] == 'd' ? "DeepSeek" : "Kimi"); });

}  // namespace
}  // namespace dsinfer::test
