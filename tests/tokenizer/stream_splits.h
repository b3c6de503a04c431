#pragma once
// Ways to cut a text into streamed pieces, for tests of the streaming
// parsers: the whole text, every 2-piece split, one UTF-8 character at a
// time, one byte at a time.
#include <algorithm>
#include <string>
#include <vector>

#include "io/utf8.h"

namespace dsinfer::test {

inline std::vector<std::vector<std::string>> splittings(const std::string& text) {
  std::vector<std::vector<std::string>> all{{text}};
  for (size_t i = 0; i <= text.size(); ++i) all.push_back({text.substr(0, i), text.substr(i)});
  std::vector<std::string> chars, bytes;
  for (size_t pos = 0; pos < text.size();) {
    const size_t n = std::max<size_t>(1, utf8::sequence_length(text, pos));
    chars.push_back(text.substr(pos, n));
    pos += n;
  }
  for (const char c : text) bytes.emplace_back(1, c);
  all.push_back(chars);
  all.push_back(bytes);
  return all;
}

inline std::string describe_split(const std::vector<std::string>& pieces) {
  if (pieces.size() == 1) return "whole";
  if (pieces.size() == 2) return "split at byte " + std::to_string(pieces[0].size());
  return std::to_string(pieces.size()) + " small pieces";
}

}  // namespace dsinfer::test
