#include "tokenizer/chat_template.h"

#include "io/error.h"

namespace dsinfer {
namespace {

void check_roles(const std::vector<ChatMessage>& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& r = messages[i].role;
    if (r != "system" && r != "user" && r != "assistant" && r != "tool")
      throw Error("chat message " + std::to_string(i) + ": unknown role '" + r +
                  "' (expected system, user, assistant or tool)");
  }
}

// DeepSeek-V3 and R1 share one template shape; they differ in how tool
// outputs after the first are joined and in R1 dropping reasoning.
std::string render_deepseek(const std::vector<ChatMessage>& messages, bool add_generation_prompt, bool r1) {
  std::string out = "<｜begin▁of▁sentence｜>";
  // All system messages are joined into one prompt that comes first.
  bool first_system = true;
  for (const ChatMessage& m : messages) {
    if (m.role != "system") continue;
    if (!first_system) out += "\n\n";
    out += m.content;
    first_system = false;
  }
  // The template's namespace flags: is_output_first is never reset, exactly
  // as in the reference, so only the first tool output of a conversation
  // opens <｜tool▁outputs▁begin｜>.
  bool is_tool = false, is_output_first = true;
  for (const ChatMessage& m : messages) {
    if (m.role == "user") {
      is_tool = false;
      out += "<｜User｜>" + m.content;
    } else if (m.role == "assistant") {
      if (is_tool) {
        out += "<｜tool▁outputs▁end｜>" + m.content + "<｜end▁of▁sentence｜>";
        is_tool = false;
      } else {
        std::string_view content = m.content;
        if (r1) {
          // R1: content.split('</think>')[-1], i.e. the text after the last </think>.
          const size_t think_end = content.rfind("</think>");
          if (think_end != std::string_view::npos) content.remove_prefix(think_end + std::string_view("</think>").size());
        }
        out += "<｜Assistant｜>";
        out += content;
        out += "<｜end▁of▁sentence｜>";
      }
    } else if (m.role == "tool") {
      is_tool = true;
      if (is_output_first) {
        out += "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>" + m.content + "<｜tool▁output▁end｜>";
        is_output_first = false;
      } else {
        out += (r1 ? "" : "\n");
        out += "<｜tool▁output▁begin｜>" + m.content + "<｜tool▁output▁end｜>";
      }
    }
  }
  if (is_tool) out += "<｜tool▁outputs▁end｜>";
  if (add_generation_prompt && !is_tool) out += "<｜Assistant｜>";
  return out;
}

std::string render_kimi_k2(const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  std::string out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    // The template inserts its default system prompt when the first turn is not a system turn.
    if (i == 0 && m.role != "system") out += "<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|>";
    if (m.role == "system") {
      out += "<|im_system|>system<|im_middle|>";
    } else if (m.role == "user") {
      out += "<|im_user|>user<|im_middle|>";
    } else if (m.role == "assistant") {
      out += "<|im_assistant|>assistant<|im_middle|>";
    } else if (m.role == "tool") {
      out += "<|im_system|>tool<|im_middle|>";
    }
    out += m.content + "<|im_end|>";
  }
  if (add_generation_prompt) out += "<|im_assistant|>assistant<|im_middle|>";
  return out;
}

}  // namespace

std::optional<ChatFormat> detect_chat_format(std::string_view t) {
  const auto has = [&](std::string_view s) { return t.find(s) != std::string_view::npos; };
  if (has("<|im_user|>") && has("<|im_assistant|>")) return ChatFormat::KimiK2;
  if (has("<｜User｜>") && has("<｜Assistant｜>")) {
    // R1's template strips reasoning: it is the only one mentioning </think>.
    return has("</think>") ? ChatFormat::DeepSeekR1 : ChatFormat::DeepSeekV3;
  }
  return std::nullopt;
}

const char* chat_format_name(ChatFormat format) {
  switch (format) {
    case ChatFormat::DeepSeekV3:
      return "deepseek-v3";
    case ChatFormat::DeepSeekR1:
      return "deepseek-r1";
    case ChatFormat::KimiK2:
      return "kimi-k2";
  }
  return "unknown";
}

std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  check_roles(messages);
  switch (format) {
    case ChatFormat::DeepSeekV3:
      return render_deepseek(messages, add_generation_prompt, /*r1=*/false);
    case ChatFormat::DeepSeekR1:
      return render_deepseek(messages, add_generation_prompt, /*r1=*/true);
    case ChatFormat::KimiK2:
      return render_kimi_k2(messages, add_generation_prompt);
  }
  throw Error("unknown chat format");
}

}  // namespace dsinfer
