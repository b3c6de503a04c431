#include "tokenizer/chat_template.h"

#include <nlohmann/json.hpp>

#include "io/error.h"
#include "io/strict_json.h"
#include "tokenizer/python_json.h"

namespace dsinfer {
namespace {

using nlohmann::json;

// The request's tools, validated, in the text the templates put in prompts.
struct Tools {
  std::vector<std::string> items;  // each declaration as Python's json.dumps writes it
  std::string dumped;              // the whole array, likewise (`tools | tojson`)
  bool any() const { return !items.empty(); }
};

std::string_view trim(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

Tools parse_tools(std::string_view tools_json) {
  Tools t;
  const std::string_view text = trim(tools_json);
  // As a missing `tools` field: the templates test `if tools`.
  if (text.empty() || text == "null") return t;
  const json j = parse_json_strict(text, "tools");
  if (!j.is_array()) throw Error("tools: expected a JSON array of function declarations");
  // Validated here so that a bad declaration fails the request instead of
  // reaching the model; an empty array is no tools, as in the templates.
  for (size_t k = 0; k < j.size(); ++k) {
    const std::string where = "tools[" + std::to_string(k) + "]";
    const json& tool = j[k];
    if (!tool.is_object()) throw Error(where + ": expected an object");
    const auto type = tool.find("type");
    if (type != tool.end() && (!type->is_string() || type->get_ref<const std::string&>() != "function"))
      throw Error(where + ".type: expected \"function\"");
    const auto fn = tool.find("function");
    if (fn == tool.end() || !fn->is_object()) throw Error(where + ".function: expected an object");
    const auto name = fn->find("name");
    if (name == fn->end() || !name->is_string() || name->get_ref<const std::string&>().empty())
      throw Error(where + ".function.name: expected a non-empty string");
  }
  t.items = python_json_array_items(text, "tools");
  t.dumped = "[";
  for (size_t k = 0; k < t.items.size(); ++k) t.dumped += (k ? ", " : "") + t.items[k];
  t.dumped += "]";
  return t;
}

void check_messages(ChatFormat format, const std::vector<ChatMessage>& messages, bool require_tool_call_id) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const std::string at = "chat message " + std::to_string(i) + ": ";
    const std::string& r = m.role;
    if (r != "system" && r != "user" && r != "assistant" && r != "tool")
      throw Error(at + "unknown role '" + r + "' in field 'role' (expected system, user, assistant or tool)");
    if (!m.tool_calls.empty() && r != "assistant")
      throw Error(at + "field 'tool_calls' is only allowed on assistant messages (role is '" + r + "')");
    for (size_t j = 0; j < m.tool_calls.size(); ++j) {
      const ChatToolCall& c = m.tool_calls[j];
      const std::string field = "field 'tool_calls[" + std::to_string(j) + "].function.";
      if (c.name.empty()) throw Error(at + field + "name' is empty");
      // The arguments go into the prompt verbatim, so they must at least be JSON.
      try {
        const json parsed = json::parse(c.arguments);  // only checked here
        (void)parsed;
      } catch (const json::exception& e) {
        throw Error(at + field + "arguments' is not valid JSON: " + e.what());
      }
    }
    if (r == "tool" && require_tool_call_id && m.tool_call_id.empty())
      throw Error(at + "field 'tool_call_id' is missing (a tool message must name the call it answers)");
    // Where the DeepSeek templates concatenate content they fail on null
    // (TypeError in jinja2); say so instead of rendering something else.
    if (m.content_is_null && format != ChatFormat::KimiK2) {
      const bool r1_plain_assistant = format == ChatFormat::DeepSeekR1 && r == "assistant" && m.tool_calls.empty();
      if (r != "assistant" || r1_plain_assistant)
        throw Error(at + "field 'content' is null (" + chat_format_name(format) +
                    " needs text here; only assistant messages with tool_calls may have null content)");
    }
  }
}

// The text after the last </think>: R1's content.split('</think>')[-1].
std::string_view after_think(std::string_view content) {
  constexpr std::string_view kThinkEnd = "</think>";
  const size_t pos = content.rfind(kThinkEnd);
  if (pos != std::string_view::npos) content.remove_prefix(pos + kThinkEnd.size());
  return content;
}

// One call as both DeepSeek templates write it, from its type on.
std::string deepseek_call(const ChatToolCall& c) {
  return c.type + "<｜tool▁sep｜>" + c.name + "\n```json\n" + c.arguments + "\n```<｜tool▁call▁end｜>";
}

std::string deepseek_declaration(const Tools& tools) {
  if (!tools.any()) return "";
  std::string d =
      "## Tools\n\n"
      "You can call functions to help with your answer. Each line below declares one as JSON: its name, what it "
      "does, and its parameters as a JSON Schema.\n";
  for (const std::string& item : tools.items) d += item + "\n";
  d +=
      "\nTo call functions, reply with exactly this and nothing after it:\n"
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGUMENTS\n```"
      "<｜tool▁call▁end｜><｜tool▁calls▁end｜>\n"
      "NAME is one of the functions declared above and ARGUMENTS is a JSON object that follows its parameters. "
      "For several calls, write one <｜tool▁call▁begin｜>...<｜tool▁call▁end｜> block per call, separated by a "
      "newline, all inside the one <｜tool▁calls▁begin｜>...<｜tool▁calls▁end｜>. Each result comes back between "
      "<｜tool▁output▁begin｜> and <｜tool▁output▁end｜>.";
  return d;
}

// DeepSeek-V3 and R1 share one template shape; they differ in when an
// assistant turn's tool_calls render, in how tool outputs after the first are
// joined and in R1 dropping reasoning.
std::string render_deepseek(const std::vector<ChatMessage>& messages, const Tools& tools,
                            const ChatRenderOptions& options, bool r1) {
  // All system messages are joined into one prompt that comes first.
  std::string system;
  bool first_system = true;
  for (const ChatMessage& m : messages) {
    if (m.role != "system") continue;
    if (!first_system) system += "\n\n";
    system += m.content;
    first_system = false;
  }
  if (options.declare_tools_for_deepseek && tools.any()) {
    if (!system.empty()) system += "\n\n";
    system += deepseek_declaration(tools);
  }
  std::string out = "<｜begin▁of▁sentence｜>" + system;
  // The template's namespace flags, none of them ever reset, exactly as in
  // the reference: only the conversation's first tool call opens
  // <｜tool▁calls▁begin｜> and only its first tool output opens
  // <｜tool▁outputs▁begin｜>.
  bool is_first = false, is_tool = false, is_output_first = true;
  const auto plain_assistant = [&](std::string_view content) {
    if (is_tool) {
      out += "<｜tool▁outputs▁end｜>";
      out += content;
      is_tool = false;
    } else {
      out += "<｜Assistant｜>";
      out += r1 ? after_think(content) : content;
    }
    out += "<｜end▁of▁sentence｜>";
  };
  for (const ChatMessage& m : messages) {
    if (m.role == "user") {
      is_tool = false;
      out += "<｜User｜>" + m.content;
    } else if (m.role == "assistant" && !r1) {
      // V3 renders tool_calls only when content is null, and then nothing else.
      if (!m.content_is_null) {
        plain_assistant(m.content);
        continue;
      }
      is_tool = false;
      for (const ChatToolCall& c : m.tool_calls) {
        if (!is_first) {
          out += "<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>" + deepseek_call(c);
          is_first = true;
        } else {
          // V3 closes the calls after every call but the conversation's first.
          out += "\n<｜tool▁call▁begin｜>" + deepseek_call(c) + "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>";
        }
      }
    } else if (m.role == "assistant") {
      // R1 switches on `'tool_calls' in message`; an empty list counts as absent here.
      if (m.tool_calls.empty()) {
        plain_assistant(m.content);
        continue;
      }
      is_tool = false;
      for (const ChatToolCall& c : m.tool_calls) {
        if (!is_first) {
          out += "<｜Assistant｜>";
          if (!m.content_is_null) out += m.content;
          out += "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>" + deepseek_call(c);
          is_first = true;
        } else {
          out += "\n<｜tool▁call▁begin｜>" + deepseek_call(c);
        }
      }
      out += "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>";
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
  if (options.add_generation_prompt && !is_tool) out += "<｜Assistant｜>";
  return out;
}

std::string render_kimi_k2(const std::vector<ChatMessage>& messages, const Tools& tools,
                           const ChatRenderOptions& options) {
  std::string out;
  if (tools.any()) out += "<|im_system|>tool_declare<|im_middle|>" + tools.dumped + "<|im_end|>";
  // Moonshot's tool call ids are functions.NAME:IDX with IDX counting every
  // call of the conversation, which is what the model itself generates.
  size_t call_index = 0;
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
    if (!m.content_is_null) out += m.content;
    if (!m.tool_calls.empty()) {
      out += "<|tool_calls_section_begin|>";
      for (const ChatToolCall& c : m.tool_calls) {
        out += "<|tool_call_begin|>functions." + c.name + ":" + std::to_string(call_index++) +
               "<|tool_call_argument_begin|>" + c.arguments + "<|tool_call_end|>";
      }
      out += "<|tool_calls_section_end|>";
    }
    out += "<|im_end|>";
  }
  if (options.add_generation_prompt) out += "<|im_assistant|>assistant<|im_middle|>";
  return out;
}

std::string render(ChatFormat format, const std::vector<ChatMessage>& messages, std::string_view tools_json,
                   const ChatRenderOptions& options, bool require_tool_call_id) {
  check_messages(format, messages, require_tool_call_id);
  const Tools tools = parse_tools(tools_json);
  switch (format) {
    case ChatFormat::DeepSeekV3:
      return render_deepseek(messages, tools, options, /*r1=*/false);
    case ChatFormat::DeepSeekR1:
      return render_deepseek(messages, tools, options, /*r1=*/true);
    case ChatFormat::KimiK2:
      return render_kimi_k2(messages, tools, options);
  }
  throw Error("unknown chat format");
}

// Field readers for parse_chat_messages: absent and null read as nullopt.
std::optional<std::string> optional_string(const json& obj, const char* key, const std::string& at,
                                           const std::string& field) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw Error(at + "field '" + field + "' must be a string");
  return it->get<std::string>();
}

}  // namespace

ChatMessage ChatMessage::assistant_tool_calls(std::vector<ChatToolCall> calls, std::optional<std::string> content) {
  ChatMessage m;
  m.role = "assistant";
  m.content_is_null = !content.has_value();
  if (content) m.content = std::move(*content);
  m.tool_calls = std::move(calls);
  return m;
}

ChatMessage ChatMessage::tool_result(std::string tool_call_id, std::string content) {
  ChatMessage m;
  m.role = "tool";
  m.content = std::move(content);
  m.tool_call_id = std::move(tool_call_id);
  return m;
}

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

std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages, std::string_view tools_json,
                        const ChatRenderOptions& options) {
  return render(format, messages, tools_json, options, /*require_tool_call_id=*/true);
}

std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  ChatRenderOptions options;
  options.add_generation_prompt = add_generation_prompt;
  return render(format, messages, "", options, /*require_tool_call_id=*/false);
}

std::string deepseek_tool_declaration(std::string_view tools_json) {
  return deepseek_declaration(parse_tools(tools_json));
}

std::vector<ChatMessage> parse_chat_messages(std::string_view messages_json) {
  const json j = parse_json_strict(messages_json, "chat messages");
  if (!j.is_array()) throw Error("chat messages: expected a JSON array of message objects");
  std::vector<ChatMessage> messages;
  messages.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const json& src = j[i];
    const std::string at = "chat message " + std::to_string(i) + ": ";
    if (!src.is_object()) throw Error(at + "expected an object");
    ChatMessage m;
    const auto role = src.find("role");
    if (role == src.end() || !role->is_string()) throw Error(at + "field 'role' must be a string");
    m.role = role->get<std::string>();
    const auto content = src.find("content");
    if (content == src.end() || content->is_null()) {
      m.content_is_null = true;
    } else if (content->is_string()) {
      m.content = content->get<std::string>();
    } else {
      throw Error(at + "field 'content' must be a string or null (arrays of content parts are not supported)");
    }
    m.tool_call_id = optional_string(src, "tool_call_id", at, "tool_call_id").value_or("");
    const auto calls = src.find("tool_calls");
    if (calls != src.end() && !calls->is_null()) {
      if (!calls->is_array()) throw Error(at + "field 'tool_calls' must be an array");
      for (size_t k = 0; k < calls->size(); ++k) {
        const json& call = (*calls)[k];
        const std::string field = "tool_calls[" + std::to_string(k) + "]";
        if (!call.is_object()) throw Error(at + "field '" + field + "' must be an object");
        ChatToolCall c;
        c.id = optional_string(call, "id", at, field + ".id").value_or("");
        c.type = optional_string(call, "type", at, field + ".type").value_or("function");
        const auto fn = call.find("function");
        if (fn == call.end() || !fn->is_object()) throw Error(at + "field '" + field + ".function' must be an object");
        const auto name = optional_string(*fn, "name", at, field + ".function.name");
        if (!name) throw Error(at + "field '" + field + ".function.name' is missing");
        c.name = *name;
        const auto args = fn->find("arguments");
        if (args == fn->end() || !args->is_string())
          throw Error(at + "field '" + field + ".function.arguments' must be a string holding JSON");
        c.arguments = args->get<std::string>();
        m.tool_calls.push_back(std::move(c));
      }
    }
    messages.push_back(std::move(m));
  }
  return messages;
}

}  // namespace dsinfer
