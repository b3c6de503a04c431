#include "tokenizer/added_token_matcher.h"

namespace dsinfer {

void AddedTokenMatcher::add(const std::string& content, int32_t id) {
  if (content.empty()) return;
  int32_t node = 0;
  for (const char ch : content) {
    const auto b = static_cast<unsigned char>(ch);
    int32_t child = -1;
    for (const auto& [byte, index] : nodes_[node].children)
      if (byte == b) child = index;
    if (child < 0) {
      child = static_cast<int32_t>(nodes_.size());
      nodes_[node].children.emplace_back(b, child);
      nodes_.emplace_back();
    }
    node = child;
  }
  nodes_[node].token_id = id;
  first_byte_[static_cast<unsigned char>(content[0])] = true;
}

size_t AddedTokenMatcher::next_candidate(std::string_view text, size_t pos) const {
  while (pos < text.size() && !first_byte_[static_cast<unsigned char>(text[pos])]) ++pos;
  return pos;
}

int32_t AddedTokenMatcher::longest_match(std::string_view text, size_t pos, size_t& len) const {
  int32_t node = 0, best = -1;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    int32_t child = -1;
    for (const auto& [byte, index] : nodes_[node].children)
      if (byte == b) {
        child = index;
        break;
      }
    if (child < 0) break;
    node = child;
    if (nodes_[node].token_id >= 0) {
      best = nodes_[node].token_id;
      len = i + 1 - pos;
    }
  }
  return best;
}

}  // namespace dsinfer
