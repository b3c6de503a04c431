#pragma once
// Text <-> token ids for the supported model families, exact to the
// reference tokenizers:
//   DeepSeek-V3/R1: HF `tokenizers` loading tokenizer.json (byte-level BPE);
//   Kimi-K2: Moonshot's TikTokenTokenizer over tiktoken.model.
// encode() matches added/special token strings inside the text (as the
// references do with add_special_tokens=False) and adds no BOS.
// Invalid UTF-8 input is rejected with Error (never replaced or crashed on);
// decode() of ids whose bytes do not form valid UTF-8 writes U+FFFD for each
// invalid sequence, as the references' errors="replace" decoding does.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/chat_template.h"
#include "tokenizer/token_store.h"

namespace dsinfer {

enum class TokenizerFamily { DeepSeek, Kimi };

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Thread-safe: no state is shared between calls.
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Raw bytes of one token (possibly part of a UTF-8 sequence); throws Error
  // for an id outside the vocabulary.
  std::string_view token_bytes(int32_t id) const;
  // Id of an added/special token given its exact content.
  std::optional<int32_t> special_token_id(std::string_view content) const { return store_.special(content); }
  // Whether token_bytes(id) has bytes: a model's vocabulary is often padded
  // past the tokenizer's (and may have gaps), and those ids have no text.
  bool defined(int32_t id) const { return store_.defined(id); }
  // One past the largest id token_bytes() accepts.
  int32_t vocab_size() const { return store_.size(); }

  std::string decode(std::span<const int32_t> ids) const;

  TokenizerFamily family() const { return family_; }
  // Known when the directory's chat_template is one of the supported ones.
  std::optional<ChatFormat> chat_format() const { return chat_format_; }
  std::optional<int32_t> bos_id() const { return bos_id_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }
  // The directory it was loaded from, for messages.
  const std::string& source() const { return source_; }

 protected:
  Tokenizer(TokenizerFamily family, std::string source) : family_(family), source_(std::move(source)) {}
  friend std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_dir);

  TokenizerFamily family_;
  std::string source_;
  TokenStore store_;  // filled by the family's constructor
  std::optional<ChatFormat> chat_format_;
  std::optional<int32_t> bos_id_, eos_id_;
};

// Detects the family from the files in model_dir (tokenizer.json: DeepSeek
// byte-level BPE; tiktoken.model: Kimi) plus tokenizer_config.json (chat
// template, special tokens). Throws Error naming the missing/malformed file.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_dir);

// Renders with the tokenizer's chat format; throws Error when the model
// directory's chat template is not a supported one.
std::string render_chat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt);
std::vector<int32_t> encode_chat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt);

}  // namespace dsinfer
