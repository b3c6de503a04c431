#pragma once
// DeepSeek-V3/R1 tokenizer: HF `tokenizers` BPE from tokenizer.json with
// added tokens matched in the text, an (identity) normalizer, Split regex
// pre-tokenizers with Isolated behaviour, ByteLevel, and merges by rank.
// Parts of tokenizer.json this does not implement are rejected by name.
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

class ByteLevelBpeTokenizer final : public Tokenizer {
 public:
  // Loads tokenizer.json; throws Error naming the file and the field at fault.
  ByteLevelBpeTokenizer(const std::string& tokenizer_json_path, std::string source);

  std::vector<int32_t> encode(std::string_view text) const override;

 private:
  struct EncodeState;
  void split_and_encode(std::string_view piece, size_t level, EncodeState& st) const;
  void encode_piece(std::string_view piece, EncodeState& st) const;

  // Added tokens: HF extracts normalized=false ones from the raw text first,
  // then normalized=true ones from what is left (after normalization).
  AddedTokenMatcher raw_added_, normalized_added_;
  std::vector<UnicodeRegex> splits_;  // Split pre-tokenizers, applied in order
  std::array<int32_t, 256> byte_ids_{};
  PairMergeTable merges_;  // (left id, right id) -> rank, merged id
};

}  // namespace dsinfer
