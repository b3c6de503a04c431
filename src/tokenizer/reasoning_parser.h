#pragma once
// Splits DeepSeek-R1 style output text into reasoning (between <think> and
// </think>; OpenAI-compatible servers return it as reasoning_content) and
// content, while it streams. Works on decoded text: special tokens arrive as
// their literal strings.
//
// Text is kept byte for byte: the newlines the model writes after <think> and
// after </think> stay in reasoning and content respectively. DeepSeek does
// not document stripping them, so no guess is made (the tags themselves are
// the only bytes dropped).
//
// Rules:
// - Only a <think> at the very start of the output opens reasoning. Without
//   it the output starts in reasoning when starts_in_reasoning is set (the R1
//   chat template ends the prompt with "<think>\n"), else in content.
// - The first </think> ends reasoning; everything after it is content, tags
//   included (a later <think> or </think> is just text).
// - If </think> never comes, everything is reasoning.
// The concatenation of all deltas, finish() included, is the whole output
// minus the tags that were consumed.
#include <string>
#include <string_view>

namespace dsinfer {

class ReasoningParser {
 public:
  struct Delta {
    std::string reasoning;
    std::string content;
  };

  explicit ReasoningParser(bool starts_in_reasoning) : starts_in_reasoning_(starts_in_reasoning) {}

  // Adds the next piece of output text; returns the text that is final now.
  // Held back until decided: a possible partial tag at the end (e.g. "</thi")
  // and the bytes of an unfinished UTF-8 character, so that split input never
  // produces split characters. Throws Error when called after finish().
  Delta feed(std::string_view piece);
  // Ends the stream and flushes everything held back as whatever it was in
  // (an unfinished "</thi" in reasoning stays reasoning).
  Delta finish();

  // True while the text being produced is reasoning (before the first
  // </think>); before the first byte this is the starts_in_reasoning guess.
  bool in_reasoning() const { return state_ == State::Start ? starts_in_reasoning_ : state_ == State::Reasoning; }

 private:
  enum class State { Start, Reasoning, Content };
  void process(Delta& out, bool at_end);

  bool starts_in_reasoning_;
  bool finished_ = false;
  State state_ = State::Start;
  std::string pending_;  // text received but not yet emitted
};

}  // namespace dsinfer
