#include "tokenizer/reasoning_parser.h"

#include <algorithm>

#include "io/error.h"
#include "io/utf8.h"

namespace dsinfer {
namespace {

constexpr std::string_view kOpen = "<think>";
constexpr std::string_view kClose = "</think>";

// Bytes at the end of `text` to keep for the next piece: the longest tail
// that may still grow into `tag`, or an unfinished UTF-8 character.
size_t holdback(std::string_view text, std::string_view tag) {
  size_t keep = utf8::incomplete_tail(text);
  for (size_t n = std::min(text.size(), tag.size() - 1); n > keep; --n)
    if (text.ends_with(tag.substr(0, n))) return n;
  return keep;
}

}  // namespace

ReasoningParser::Delta ReasoningParser::feed(std::string_view piece) {
  if (finished_) throw Error("ReasoningParser: feed() called after finish()");
  pending_.append(piece);
  Delta out;
  process(out, false);
  return out;
}

ReasoningParser::Delta ReasoningParser::finish() {
  Delta out;
  if (finished_) return out;
  finished_ = true;
  process(out, true);
  return out;
}

void ReasoningParser::process(Delta& out, bool at_end) {
  const std::string_view buf = pending_;
  size_t pos = 0;
  for (;;) {
    const std::string_view rest = buf.substr(pos);
    if (state_ == State::Start) {
      if (rest.starts_with(kOpen)) {
        pos += kOpen.size();
        state_ = State::Reasoning;
      } else if (!at_end && kOpen.starts_with(rest)) {
        break;  // too little text to tell whether the output opens with <think>
      } else {
        state_ = starts_in_reasoning_ ? State::Reasoning : State::Content;
      }
    } else if (state_ == State::Reasoning) {
      const size_t close = rest.find(kClose);
      if (close != std::string_view::npos) {
        out.reasoning.append(rest.substr(0, close));
        pos += close + kClose.size();
        state_ = State::Content;
        continue;
      }
      const size_t keep = at_end ? 0 : holdback(rest, kClose);
      out.reasoning.append(rest.substr(0, rest.size() - keep));
      pos += rest.size() - keep;
      break;
    } else {
      const size_t keep = at_end ? 0 : utf8::incomplete_tail(rest);
      out.content.append(rest.substr(0, rest.size() - keep));
      pos += rest.size() - keep;
      break;
    }
  }
  // What stays is at most a tag's length: erasing keeps feed() linear overall.
  pending_.erase(0, pos);
}

}  // namespace dsinfer
