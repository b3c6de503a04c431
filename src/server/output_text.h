#pragma once
// The text of one generated sequence as it streams: tokens are decoded
// incrementally (whole UTF-8 characters only), stop strings are matched
// across token boundaries and never emitted (the text that could still
// start one is held back), with a reasoning model the text inside
// <think>...</think> is split off as reasoning, and with tools the model's
// tool calls are parsed out of the answer.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/reasoning_parser.h"
#include "tokenizer/streaming_detokenizer.h"
#include "tokenizer/tool_call_parser.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer::server {

class OutputText {
 public:
  // reasoning: nullopt = no reasoning split; true = generation starts inside
  // <think> (the template forced it open); false = it may open one.
  // tools: the format tool calls are parsed in (nullopt: none).
  OutputText(const Tokenizer& tokenizer, std::vector<std::string> stop, std::optional<bool> reasoning,
             std::optional<ToolCallFormat> tools = std::nullopt);

  struct Delta {
    std::string content, reasoning;
    std::vector<ToolCallDelta> calls;  // complete calls, each reported once
    bool stopped = false;  // a stop string ended the output: take no more tokens
  };
  Delta push(int32_t token);
  // Text the server put at the start of the answer itself (a forced tool
  // call opening): the parsers see it as output, the client does not.
  void prime(const std::string& text);
  Delta finish();

  const std::string& content() const { return content_; }
  const std::string& reasoning() const { return reasoning_; }
  // The tool calls parsed so far (empty without tools).
  std::vector<ToolCall> calls() const { return tool_parser_ ? tool_parser_->calls() : std::vector<ToolCall>{}; }
  bool stopped() const { return stopped_; }

 private:
  Delta release(std::string text, bool last, bool record = true);

  const Tokenizer& tokenizer_;
  StreamingDetokenizer detok_;
  std::vector<std::string> stop_;
  size_t hold_ = 0;  // longest stop string - 1
  std::string pending_;
  std::unique_ptr<ReasoningParser> reasoning_parser_;
  std::unique_ptr<ToolCallParser> tool_parser_;
  std::string content_, reasoning_;
  bool stopped_ = false;
};

}  // namespace dsinfer::server
