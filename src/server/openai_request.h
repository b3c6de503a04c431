#pragma once
// Requests of the OpenAI API the server accepts, parsed and validated from
// their JSON bodies: /v1/chat/completions and /v1/completions. Unknown
// fields are ignored; a wrong type or an out-of-range value is an ApiError
// 400 naming the field.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/sampling_params.h"
#include "server/api_error.h"
#include "tokenizer/chat_template.h"

namespace dsinfer::server {

struct GenerationSettings {
  std::optional<int64_t> max_tokens;  // max_tokens / max_completion_tokens; none: up to the context
  SamplingParams sampling;
  std::vector<std::string> stop;      // stop strings, never part of the output
  int64_t n = 1;
  bool stream = false;
  bool include_usage = false;         // stream_options.include_usage
  bool ignore_eos = false;
};

// tool_choice: none = no tools in the prompt and no call parsing; auto,
// required and a named function declare the tools (a named one only that
// one) and parse calls out of the output. required and a named function
// force a call: the answer is started with the format's call opening (and
// the name), which the model continues (no constrained decoding beyond it).
enum class ToolChoice : uint8_t { Auto, None, Required, Named };

struct ChatRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  GenerationSettings gen;
  std::string tools_json;  // the `tools` array as sent (key order kept); "" = none
  ToolChoice tool_choice = ToolChoice::Auto;
  std::string tool_name;   // ToolChoice::Named
};

struct CompletionRequest {
  std::string model;
  std::string prompt;               // text prompt, or
  std::vector<int32_t> prompt_ids;  // token ids (a list of integers)
  bool has_ids = false;
  GenerationSettings gen;
};

ChatRequest parse_chat_request(const std::string& body);
CompletionRequest parse_completion_request(const std::string& body);
// The JSON object of a request body; ApiError 400 when it is not one.
nlohmann::json parse_body(const std::string& body);

}  // namespace dsinfer::server
