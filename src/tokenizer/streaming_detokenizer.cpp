#include "tokenizer/streaming_detokenizer.h"

#include "io/utf8.h"

namespace dsinfer {

std::string StreamingDetokenizer::push(int32_t id) {
  pending_ += tokenizer_.token_bytes(id);
  const size_t hold = utf8::incomplete_tail(pending_);
  std::string out;
  utf8::append_lossy(out, std::string_view(pending_).substr(0, pending_.size() - hold));
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StreamingDetokenizer::finish() {
  std::string out;
  utf8::append_lossy(out, pending_);
  pending_.clear();
  return out;
}

}  // namespace dsinfer
