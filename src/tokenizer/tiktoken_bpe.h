#pragma once
// Kimi-K2 tokenizer: tiktoken BPE over tiktoken.model (base64 token + rank
// per line), as driven by Moonshot's TikTokenTokenizer through transformers:
// added tokens from tokenizer_config.json are split off first, the rest is
// cut into <= 400k-character chunks and runs of <= 25k (non)whitespace
// characters, then pre-tokenized with Kimi's regex and merged by rank.
#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_token_matcher.h"
#include "tokenizer/bpe_merge.h"
#include "tokenizer/token_tables.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode_regex.h"

namespace dsinfer {

class TiktokenBpeTokenizer final : public Tokenizer {
 public:
  // added_tokens: (id, content) from tokenizer_config.json's added_tokens_decoder.
  TiktokenBpeTokenizer(const std::string& tiktoken_model_path,
                       const std::vector<std::pair<int32_t, std::string>>& added_tokens, std::string source);

  std::vector<int32_t> encode(std::string_view text) const override;

  // Kimi's pre-tokenization pattern, in PCRE2 syntax.
  static const char* pattern();

 private:
  struct EncodeState;
  void encode_chunk(std::string_view chunk, EncodeState& st) const;
  void encode_piece(std::string_view piece, EncodeState& st) const;

  // Mergeable token bytes -> rank (= id). Keys view into store_.
  BytesRankTable ranks_;
  std::array<int32_t, 256> byte_ranks_{};
  int32_t num_base_tokens_ = 0;
  AddedTokenMatcher added_;
  UnicodeRegex regex_;
};

}  // namespace dsinfer
