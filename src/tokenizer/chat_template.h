#pragma once
// Chat formats of the supported models, hand-written to render exactly what
// each model's tokenizer_config.json Jinja chat_template renders (as
// transformers' apply_chat_template does): system/user/assistant/tool turns,
// assistant tool calls, and the request's tool declarations. Two deliberate
// departures, both where the stored template cannot render at all or says
// nothing:
//  - Kimi-K2: the stored template predates tool calls in history (it fails on
//    an assistant turn with null content), so assistant tool calls use
//    Moonshot's later format (see render_chat below); null content renders
//    as empty text.
//  - DeepSeek-V3/R1: the templates never declare `tools` to the model; a
//    server opts into our own declaration with
//    ChatRenderOptions::declare_tools_for_deepseek.
// Everything else, quirks included, follows the templates byte for byte
// (tests/data/golden/chat_templates.golden.json is the reference).
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

// One entry of an assistant message's OpenAI `tool_calls`.
struct ChatToolCall {
  std::string id;         // the client's id; DeepSeek does not render it, Kimi-K2 renders its own
  std::string name;       // function.name
  std::string arguments;  // function.arguments: JSON text, rendered verbatim
  std::string type = "function";
};

struct ChatMessage {
  std::string role;     // "system", "user", "assistant" or "tool"
  std::string content;  // ignored when content_is_null
  std::vector<ChatToolCall> tool_calls = {};  // assistant only; empty = no `tool_calls` field
  std::string tool_call_id = {};              // tool only: the call this output answers
  // JSON `content: null` (or absent), as an assistant message with tool_calls
  // usually has. The templates tell null from "": DeepSeek-V3 renders an
  // assistant's tool_calls only when its content is null.
  bool content_is_null = false;

  // An assistant turn made of tool calls, content null unless given.
  static ChatMessage assistant_tool_calls(std::vector<ChatToolCall> calls,
                                          std::optional<std::string> content = std::nullopt);
  // A tool output answering the call tool_call_id.
  static ChatMessage tool_result(std::string tool_call_id, std::string content);
};

struct ChatRenderOptions {
  // Append the opening of the assistant's reply.
  bool add_generation_prompt = false;
  // DeepSeek-V3/R1 only (Kimi-K2 always declares tools, as its template does):
  // when tools are given, append deepseek_tool_declaration(tools) to the
  // system prompt. Off by default so renders match the official templates;
  // the OpenAI-compatible server turns it on.
  bool declare_tools_for_deepseek = false;
};

// Which format a chat_template is, from substrings only one of them has;
// nullopt when it is none of the three.
std::optional<ChatFormat> detect_chat_format(std::string_view jinja_template);

const char* chat_format_name(ChatFormat format);

// Renders the conversation. tools_json is the JSON text of the request's
// `tools` array of OpenAI function declarations ("" or "null": none); keys
// keep the order they have in that text, as Hugging Face's `tojson` keeps
// them, so dump an nlohmann::ordered_json, not an nlohmann::json (which sorts).
//
// What each format does with tools and tool calls:
//  - DeepSeek-V3: a call renders as <｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME
//    \n```json\nARGS\n```<｜tool▁call▁end｜>; an assistant turn with null content
//    renders its calls (the first of the conversation opens with
//    <｜Assistant｜><｜tool▁calls▁begin｜>, later ones are joined by "\n" and each
//    followed by <｜tool▁calls▁end｜><｜end▁of▁sentence｜>, as the template's
//    never-reset `is_first` flag has it); with non-null content it renders the
//    content only. Tool outputs: <｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>...
//  - DeepSeek-R1: an assistant turn with tool_calls renders <｜Assistant｜>,
//    its content (unstripped), the calls, then
//    <｜tool▁calls▁end｜><｜end▁of▁sentence｜>; again only the conversation's
//    first call opens with <｜Assistant｜>...<｜tool▁calls▁begin｜>.
//  - Kimi-K2: tools render first as <|im_system|>tool_declare<|im_middle|> +
//    the array as Python's json.dumps writes it + <|im_end|>; an assistant turn
//    with tool_calls renders its content (if any), then
//    <|tool_calls_section_begin|>, per call
//    <|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>ARGS<|tool_call_end|>
//    and <|tool_calls_section_end|>, IDX counting the conversation's calls from
//    0 (Moonshot's id scheme); tool outputs render as the stored template does.
//
// Throws Error naming the message index and field for: an unknown role; a
// tool message without tool_call_id; tool_calls on a non-assistant message,
// with an empty function name or with arguments that are not valid JSON;
// null content where the DeepSeek template would fail on it (system, user
// and tool messages; R1 assistant messages without tool_calls). Throws Error
// naming `tools` when tools_json is not an array of {"function": {"name":
// ...}} objects.
std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages, std::string_view tools_json,
                        const ChatRenderOptions& options);

// The original form: no tools, and tool messages may omit tool_call_id (it
// predates tool calls). Otherwise as above.
std::string render_chat(ChatFormat format, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

// The text declare_tools_for_deepseek appends to the DeepSeek system prompt
// (after "\n\n" when there is one): a "## Tools" heading, each declaration on
// its own line as Python's json.dumps writes it, then the call format to use,
//   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGUMENTS\n```
//   <｜tool▁call▁end｜><｜tool▁calls▁end｜>   (one line, wrapped here)
// (several calls joined by "\n" inside one <｜tool▁calls▁begin｜>...), which is
// how the DeepSeek templates render calls in history. Depends only on
// tools_json. Empty when there are no tools.
std::string deepseek_tool_declaration(std::string_view tools_json);

// An OpenAI `messages` array (JSON text) as ChatMessages: role (string),
// content (string, null or absent = null), tool_calls (id, type, function
// {name, arguments: a string}), tool_call_id; other fields are ignored.
// Throws Error naming the message index and field on a wrong shape or type
// (content given as an array of parts is not supported). Roles and the rules
// above are checked by render_chat.
std::vector<ChatMessage> parse_chat_messages(std::string_view messages_json);

}  // namespace dsinfer
