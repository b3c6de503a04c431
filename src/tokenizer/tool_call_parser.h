#pragma once
// Streams tool calls out of generated text (decoded text: special tokens
// arrive as their literal strings), in the shape of an OpenAI stream's
// delta.tool_calls.
//
// Formats:
//   Kimi-K2:     <|tool_calls_section_begin|>
//                  <|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>ARGS<|tool_call_end|> ...
//                <|tool_calls_section_end|>
//                id = "functions.NAME:IDX" as written; NAME is what sits
//                between "functions." and the last ':' (IDX: digits).
//   DeepSeek-V3/R1: <｜tool▁calls▁begin｜>
//                  <｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜> ...
//                <｜tool▁calls▁end｜>
//                id = "call_" + the call's index ("call_0", "call_1", ...):
//                deterministic and unique within one output only.
// ARGS must be a JSON object (function arguments are one in the OpenAI API);
// it is reported as the model wrote it, minus surrounding whitespace.
// Whitespace is allowed around markers inside the section. Text before a
// section is content; so is text after a section's end marker (where a
// further section may start; indices continue).
//
// Streaming: a call is reported, whole, in the feed() whose text completes
// its end marker: one ToolCallDelta with index, id, name and all of its
// arguments. Nothing reported is ever retracted.
//
// Malformed output never throws. When a call turns out bad (no
// tool_call_begin or section end where one must be, unparsable id/name or
// body, arguments that are not a JSON object, or the output ending before a
// call's end marker), parsing stops for good: all text from the end of the
// last good call (or from the section's begin marker when there was none) to
// the end of the output becomes content, raw. It is emitted as soon as the
// failure is known (in that feed() or in finish()); calls already reported
// stay reported. A section whose calls were all good but whose end marker
// never comes is not a failure: only the text after the last call (e.g. a
// trailing newline) comes back as content, at finish().
#include <string>
#include <string_view>
#include <vector>

namespace dsinfer {

enum class ToolCallFormat {
  KimiK2,
  DeepSeekV3,  // DeepSeek-V3 and R1 share it
};

struct ToolCall {
  int index = 0;  // 0, 1, ... in order of appearance within the output
  std::string id;
  std::string name;
  std::string arguments;  // JSON object text
  bool operator==(const ToolCall&) const = default;
};

struct ToolCallDelta {
  int index = 0;
  std::string id;    // set on a call's first delta only
  std::string name;  // set on a call's first delta only
  std::string arguments_fragment;
  bool operator==(const ToolCallDelta&) const = default;
};

class ToolCallParser {
 public:
  struct Delta {
    std::string content;
    std::vector<ToolCallDelta> calls;
  };

  explicit ToolCallParser(ToolCallFormat format);

  // Adds the next piece of output text; returns what is final now. Held back
  // until decided: a possible partial marker at the end of content, an
  // unfinished UTF-8 character, and any call not yet complete. Throws Error
  // only when called after finish().
  Delta feed(std::string_view piece);
  // Ends the stream: an unfinished section becomes content as described above.
  Delta finish();

  // The calls reported so far.
  const std::vector<ToolCall>& calls() const { return calls_; }

 private:
  enum class State { Content, Section, Call, Failed };
  void process(Delta& out, bool at_end);
  bool parse_call(std::string_view body, ToolCall& call) const;

  ToolCallFormat format_;
  bool finished_ = false;
  State state_ = State::Content;
  // buf_ holds the text not yet given back as content or consumed by a good
  // call: buf_[0, pos_) is examined section text (raw fallback if a call
  // fails), buf_[pos_, end) is unexamined.
  std::string buf_;
  size_t pos_ = 0;
  size_t body_start_ = 0;  // in State::Call: where the call's body starts
  size_t scan_from_ = 0;   // in State::Call: where the end-marker search resumes
  std::vector<ToolCall> calls_;
};

// The text that opens a tool call in the model's own format, for forcing
// one (tool_choice required / a named function): up to where the model
// writes the function name (name empty), or with `name` up to where it
// writes the arguments.
std::string forced_call_prefix(ToolCallFormat format, const std::string& name);

}  // namespace dsinfer
