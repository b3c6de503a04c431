#pragma once
// A PCRE2 pattern compiled with UTF + UCP (Unicode properties for \p{..})
// and JIT, used by the pre-tokenizers to cut text into pieces.
#include <memory>
#include <string>
#include <string_view>

namespace dsinfer {

// Per-call match state (match data and a JIT stack big enough for a 1 MB
// piece). Create one per encode call and reuse it for every match; not
// shareable between threads.
class RegexScratch {
 public:
  RegexScratch();
  ~RegexScratch();
  RegexScratch(const RegexScratch&) = delete;
  RegexScratch& operator=(const RegexScratch&) = delete;

 private:
  friend class UnicodeRegex;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class UnicodeRegex {
 public:
  // `origin` names where the pattern came from, for error messages.
  UnicodeRegex(const std::string& pattern, const std::string& origin);
  ~UnicodeRegex();
  UnicodeRegex(UnicodeRegex&&) noexcept;
  UnicodeRegex& operator=(UnicodeRegex&&) noexcept;

  // Calls on_match(begin, end) (byte offsets into subject) for every
  // non-overlapping match, leftmost first, scanning left to right. Lookaround
  // sees only `subject`, as when the reference runs the regex on one piece.
  // The subject must be valid UTF-8 (callers validate once up front).
  template <typename F>
  void for_each_match(std::string_view subject, RegexScratch& scratch, F&& on_match) const {
    size_t pos = 0, begin = 0, end = 0;
    while (pos < subject.size() && find(subject, pos, scratch, begin, end)) {
      on_match(begin, end);
      // None of the tokenizer patterns can match empty; step past one anyway.
      pos = end > begin ? end : end + 1;
    }
  }

 private:
  // Finds the next match at or after `start`; false when there is none.
  bool find(std::string_view subject, size_t start, RegexScratch& scratch, size_t& begin, size_t& end) const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Adapts a pattern written for Oniguruma (HF tokenizers) or Rust's regex
// (tiktoken) to PCRE2 10.42 so that it matches the same characters:
//  - \s / \S become \p{White_Space} / \P{White_Space} (PCRE2's \s with UCP
//    also matches U+180E, the others do not);
//  - \p{Han} means the Han script (PCRE2 would use Script_Extensions, which
//    also covers CJK punctuation such as U+3002);
//  - \p{L}, \p{Lu}, ..., \p{N}, \p{P}, \p{S}, \p{M}, \p{Han} also take the
//    code points Unicode 15.0 .. `unicode_version` (e.g. 160 for 16.0) added,
//    since PCRE2 10.42 knows only Unicode 14.0.
// Throws Error (naming `origin`) for a \P{..} of such a property inside a class.
std::string adapt_pattern(const std::string& pattern, int unicode_version, const std::string& origin);

}  // namespace dsinfer
