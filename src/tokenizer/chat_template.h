#pragma once
// Chat formats of the supported models, hand-written to render exactly what
// each model's tokenizer_config.json Jinja chat_template renders (as
// transformers' apply_chat_template does) for system/user/assistant/tool
// turns. Tool *calls* inside assistant turns are not supported.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dsinfer {

enum class ChatFormat {
  DeepSeekV3,  // system prompt first, <｜User｜>/<｜Assistant｜> turns
  DeepSeekR1,  // as V3, but assistant turns keep only the text after </think>
  KimiK2,      // <|im_system|>/<|im_user|>/<|im_assistant|> ... <|im_end|>, default system prompt
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant" or "tool"
  std::string content;
};

// Which format a chat_template is, from substrings only one of them has;
// nullopt when it is none of the three.
std::optional<ChatFormat> detect_chat_format(std::string_view jinja_template);

const char* chat_format_name(ChatFormat format);

// Renders the conversation; add_generation_prompt appends the opening of the
// assistant's reply. Throws Error for a role outside the four above.
std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

}  // namespace dsinfer
