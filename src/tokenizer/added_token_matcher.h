#pragma once
// Finds added/special token strings inside text, leftmost first and longest
// at a given start, as HF tokenizers (aho-corasick LeftmostLongest) and the
// transformers Trie do. Text between matches is tokenized normally.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dsinfer {

class AddedTokenMatcher {
 public:
  void add(const std::string& content, int32_t id);
  bool empty() const { return nodes_.size() <= 1; }

  // Splits text into runs: on_text(string_view) for ordinary text (never
  // empty) and on_token(id) for each matched token, in order.
  template <typename OnText, typename OnToken>
  void split(std::string_view text, OnText&& on_text, OnToken&& on_token) const {
    size_t plain_start = 0, pos = 0;
    while (pos < text.size()) {
      pos = next_candidate(text, pos);
      if (pos >= text.size()) break;
      size_t len = 0;
      const int32_t id = longest_match(text, pos, len);
      if (id < 0) {
        ++pos;
        continue;
      }
      if (pos > plain_start) on_text(text.substr(plain_start, pos - plain_start));
      on_token(id);
      pos += len;
      plain_start = pos;
    }
    if (plain_start < text.size()) on_text(text.substr(plain_start));
  }

 private:
  struct Node {
    int32_t token_id = -1;
    std::vector<std::pair<unsigned char, int32_t>> children;  // byte -> node index
  };
  // First position >= pos whose byte can start a token.
  size_t next_candidate(std::string_view text, size_t pos) const;
  // Id of the longest token starting at pos (and its length), or -1.
  int32_t longest_match(std::string_view text, size_t pos, size_t& len) const;

  std::vector<Node> nodes_{Node{}};
  bool first_byte_[256] = {};
};

}  // namespace dsinfer
