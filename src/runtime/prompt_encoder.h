#pragma once
// Turns dataset prompts into token ids for a model directory: its real
// tokenizer (and chat template) when the directory has one; otherwise a
// documented raw-byte fallback (id = UTF-8 byte value mod vocab_size) so
// tokenizer-less test checkpoints can still run the offline job.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/prompt_dataset.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer {

class PromptEncoder {
 public:
  PromptEncoder(const std::string& model_dir, int64_t vocab_size);

  bool has_tokenizer() const { return tokenizer_ != nullptr; }
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }

  // Ids of the prompt, at most input_max_len: the context part is cut first
  // so prefix and suffix (the instructions) survive; whatever still exceeds
  // the limit is cut from the end, as the seed's static batch does.
  std::vector<int32_t> encode(const PromptText& prompt, int64_t input_max_len, bool chat) const;
  std::string decode(const std::vector<int32_t>& ids) const;

 private:
  std::vector<int32_t> encode_text(const std::string& text) const;
  std::string wrap(const std::string& text, bool chat) const;

  std::unique_ptr<Tokenizer> tokenizer_;
  int64_t vocab_size_;
};

// Whether a directory holds tokenizer files load_tokenizer() understands.
bool has_tokenizer_files(const std::string& model_dir);

}  // namespace dsinfer
