#pragma once
// Incremental decoding for streaming output: text is emitted as soon as it
// forms complete UTF-8 characters, and bytes of a character split across
// tokens are held back until it completes. The concatenation of everything
// emitted (including finish()) equals Tokenizer::decode of all the ids.
#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace dsinfer {

class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}

  // Adds one token; returns the text that became complete (maybe empty).
  // Byte sequences that can never become valid UTF-8 come out as U+FFFD.
  std::string push(int32_t id);
  // Ends the stream: held-back bytes of an unfinished character become U+FFFD.
  std::string finish();
  // Bytes currently held back (0..3).
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer& tokenizer_;
  std::string pending_;
};

}  // namespace dsinfer
