// Chat rendering with tools: the reference renders of the official templates
// (tests/data/golden/chat_templates.golden.json, described beside it),
// plus hand-written expectations for what that file cannot cover: Kimi-K2
// tool calls in history (Moonshot's later format), the DeepSeek templates'
// tool-call quirks (cross-checked against jinja2 3.1 rendering the stored
// templates), our own DeepSeek tool declaration, and the errors.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/error.h"
#include "support/test_support.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/python_json.h"

namespace dsinfer::test {
namespace {

using ojson = nlohmann::ordered_json;  // keeps the key order the golden tools were written in

const std::string kBos = "<｜begin▁of▁sentence｜>";
const std::string kKimiDefaultSystem = "<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|>";

const ojson& chat_golden() {
  static const ojson golden = [] {
    std::ifstream f(data_path("golden/chat_templates.golden.json"));
    return ojson::parse(f);
  }();
  return golden;
}

// Where two renders part, with some text around it, for failure messages.
std::string first_difference(const std::string& got, const std::string& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  if (i == got.size() && i == want.size()) return "identical";
  const size_t from = i < 40 ? 0 : i - 40;
  return "first difference at byte " + std::to_string(i) + " (got " + std::to_string(got.size()) + " bytes, want " +
         std::to_string(want.size()) + ")\n  got:  ..." + got.substr(from, 100) + "\n  want: ..." +
         want.substr(from, 100);
}

#define EXPECT_RENDER_EQ(got, want)                                 \
  do {                                                              \
    const std::string g_ = (got), w_ = (want);                      \
    EXPECT_TRUE(g_ == w_) << first_difference(g_, w_);              \
  } while (0)

ChatRenderOptions gen(bool add_generation_prompt) {
  ChatRenderOptions o;
  o.add_generation_prompt = add_generation_prompt;
  return o;
}

const ojson& golden_case(const std::string& family, const std::string& name, bool add_generation_prompt) {
  for (const ojson& c : chat_golden()["families"][family])
    if (c["name"] == name && c["add_generation_prompt"] == add_generation_prompt) return c;
  throw std::runtime_error("no golden case " + family + "/" + name);
}

// Renders every golden case of one family; cases with a `text` must match
// it exactly, and there must be `want_text_cases` of them.
void check_golden_family(const std::string& family, ChatFormat format, size_t want_text_cases) {
  const ojson& cases = chat_golden()["families"][family];
  size_t matched = 0, with_text = 0;
  for (const ojson& c : cases) {
    if (c["text"].is_null()) continue;  // the official template itself fails here
    ++with_text;
    const bool add_gen = c["add_generation_prompt"].get<bool>();
    SCOPED_TRACE(family + "/" + c["name"].get<std::string>() + (add_gen ? " +gen" : " -gen"));
    const std::vector<ChatMessage> messages = parse_chat_messages(c["messages"].dump());
    const std::string got = render_chat(format, messages, c["tools"].dump(), gen(add_gen));
    const std::string want = c["text"].get<std::string>();
    EXPECT_TRUE(got == want) << first_difference(got, want);
    if (got == want) ++matched;
  }
  EXPECT_EQ(with_text, want_text_cases) << "golden file changed?";
  EXPECT_EQ(matched, with_text);
}

TEST(ChatTemplateGolden, DeepSeekV3MatchesOfficialTemplate) {
  check_golden_family("deepseek-v3", ChatFormat::DeepSeekV3, 8);
}

TEST(ChatTemplateGolden, DeepSeekR1MatchesOfficialTemplate) {
  check_golden_family("deepseek-r1", ChatFormat::DeepSeekR1, 8);
}

TEST(ChatTemplateGolden, KimiK2MatchesOfficialTemplate) {
  // tools_round_trip (x2) is an `error`: the stored template cannot render
  // null content; KimiToolCallsInHistory covers it.
  check_golden_family("kimi-k2", ChatFormat::KimiK2, 6);
}

const std::string kWeatherToolJson =
    R"([{"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city", )"
    R"("parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "城市 / city"}, )"
    R"("unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}}}])";

TEST(ChatTemplateTools, KimiToolCallsInHistory) {
  // The golden tools_round_trip conversation, which the stored Kimi template
  // cannot render, in Moonshot's later tool-call format.
  for (const bool add_gen : {true, false}) {
    const ojson& c = golden_case("kimi-k2", "tools_round_trip", add_gen);
    ASSERT_TRUE(c["text"].is_null());
    const std::string want =
        "<|im_system|>tool_declare<|im_middle|>" + kWeatherToolJson + "<|im_end|>" +
        "<|im_system|>system<|im_middle|>You are a weather bot.<|im_end|>"
        "<|im_user|>user<|im_middle|>Weather in Paris and 北京?<|im_end|>"
        "<|im_assistant|>assistant<|im_middle|><|tool_calls_section_begin|>"
        "<|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\"}<|tool_call_end|>"
        "<|tool_call_begin|>functions.get_weather:1<|tool_call_argument_begin|>{\"city\": \"北京\", \"unit\": \"c\"}"
        "<|tool_call_end|><|tool_calls_section_end|><|im_end|>"
        "<|im_system|>tool<|im_middle|>{\"temp\": 11}<|im_end|>"
        "<|im_system|>tool<|im_middle|>{\"temp\": 3}<|im_end|>"
        "<|im_assistant|>assistant<|im_middle|>Paris 11°C, Beijing 3°C.<|im_end|>"
        "<|im_user|>user<|im_middle|>Thanks! And tomorrow?<|im_end|>" +
        std::string(add_gen ? "<|im_assistant|>assistant<|im_middle|>" : "");
    EXPECT_RENDER_EQ(
        render_chat(ChatFormat::KimiK2, parse_chat_messages(c["messages"].dump()), c["tools"].dump(), gen(add_gen)),
        want);
  }
}

TEST(ChatTemplateTools, KimiCallIndexCountsTheWholeConversation) {
  // Client ids are not rendered: IDX counts calls across turns, and content
  // next to calls comes first; <think> in history is kept.
  const std::vector<ChatMessage> m = {
      {"user", "q"},
      ChatMessage::assistant_tool_calls({{"call_x", "f", "{}"}, {"call_y", "g", "{\"a\": 1}"}},
                                        "<think>t</think>Checking."),
      ChatMessage::tool_result("call_x", "r1"),
      ChatMessage::tool_result("call_y", "r2"),
      ChatMessage::assistant_tool_calls({{"zzz", "f", "[]"}}, ""),
      ChatMessage::tool_result("zzz", "r3"),
      {"assistant", "done"},
  };
  EXPECT_RENDER_EQ(render_chat(ChatFormat::KimiK2, m, "", gen(false)),
                   kKimiDefaultSystem +
                       "<|im_user|>user<|im_middle|>q<|im_end|>"
                       "<|im_assistant|>assistant<|im_middle|><think>t</think>Checking.<|tool_calls_section_begin|>"
                       "<|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}<|tool_call_end|>"
                       "<|tool_call_begin|>functions.g:1<|tool_call_argument_begin|>{\"a\": 1}<|tool_call_end|>"
                       "<|tool_calls_section_end|><|im_end|>"
                       "<|im_system|>tool<|im_middle|>r1<|im_end|><|im_system|>tool<|im_middle|>r2<|im_end|>"
                       "<|im_assistant|>assistant<|im_middle|><|tool_calls_section_begin|>"
                       "<|tool_call_begin|>functions.f:2<|tool_call_argument_begin|>[]<|tool_call_end|>"
                       "<|tool_calls_section_end|><|im_end|>"
                       "<|im_system|>tool<|im_middle|>r3<|im_end|>"
                       "<|im_assistant|>assistant<|im_middle|>done<|im_end|>");
  // Null content without calls renders as empty text (the stored template fails on it).
  ChatMessage empty{"assistant", ""};
  empty.content_is_null = true;
  EXPECT_RENDER_EQ(render_chat(ChatFormat::KimiK2, {{"system", "S"}, empty}, "", gen(false)),
                   "<|im_system|>system<|im_middle|>S<|im_end|><|im_assistant|>assistant<|im_middle|><|im_end|>");
}

TEST(ChatTemplateTools, KimiDeclaresToolsOnlyWhenThereAreSome) {
  const std::vector<ChatMessage> m = {{"user", "hi"}};
  const std::string plain = kKimiDefaultSystem + "<|im_user|>user<|im_middle|>hi<|im_end|>";
  EXPECT_EQ(render_chat(ChatFormat::KimiK2, m, "", gen(false)), plain);
  EXPECT_EQ(render_chat(ChatFormat::KimiK2, m, "null", gen(false)), plain);
  EXPECT_EQ(render_chat(ChatFormat::KimiK2, m, " [] ", gen(false)), plain);
  // Key order and spacing as Python's json.dumps, whatever the input's spacing.
  const std::string compact = R"([{"type":"function","function":{"name":"z","parameters":{"b":1,"a":2.50}}}])";
  ChatRenderOptions declare = gen(false);
  declare.declare_tools_for_deepseek = true;  // a DeepSeek-only option: no effect here
  for (const auto& o : {gen(false), declare})
    EXPECT_EQ(render_chat(ChatFormat::KimiK2, m, compact, o),
              "<|im_system|>tool_declare<|im_middle|>"
              R"([{"type": "function", "function": {"name": "z", "parameters": {"b": 1, "a": 2.5}}}])"
              "<|im_end|>" +
                  plain);
}

TEST(ChatTemplateTools, DeepSeekV3ToolCallQuirks) {
  // Only the conversation's first call opens <｜tool▁calls▁begin｜> and a lone
  // call is never closed; later calls close after each one. Non-null content
  // hides the calls. (As jinja2 renders the stored V3 template.)
  const std::vector<ChatMessage> m = {
      {"user", "q"},
      ChatMessage::assistant_tool_calls({{"a", "f", "{}"}}),
      ChatMessage::tool_result("a", "r1"),
      ChatMessage::assistant_tool_calls({{"b", "g", "{\"y\": 2}"}}),
      ChatMessage::tool_result("b", "r2"),
      {"assistant", "<think>t</think>end"},
      ChatMessage::assistant_tool_calls({{"c", "h", "{}"}}, ""),
  };
  EXPECT_RENDER_EQ(
      render_chat(ChatFormat::DeepSeekV3, m, "", gen(true)),
      kBos +
          "<｜User｜>q<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{}\n```"
          "<｜tool▁call▁end｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>r1<｜tool▁output▁end｜>"
          "\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>g\n```json\n{\"y\": 2}\n```<｜tool▁call▁end｜>"
          "<｜tool▁calls▁end｜><｜end▁of▁sentence｜>\n<｜tool▁output▁begin｜>r2<｜tool▁output▁end｜>"
          "<｜tool▁outputs▁end｜><think>t</think>end<｜end▁of▁sentence｜><｜Assistant｜><｜end▁of▁sentence｜>"
          "<｜Assistant｜>");
  // Null content without calls renders nothing in V3.
  ChatMessage null_turn{"assistant", ""};
  null_turn.content_is_null = true;
  EXPECT_EQ(render_chat(ChatFormat::DeepSeekV3, {{"user", "q"}, null_turn, {"user", "q2"}}, "", gen(true)),
            kBos + "<｜User｜>q<｜User｜>q2<｜Assistant｜>");
}

TEST(ChatTemplateTools, DeepSeekR1ToolCalls) {
  // R1 renders content before the calls and closes every turn's calls; its
  // never-reset flag drops <｜Assistant｜><｜tool▁calls▁begin｜> from later turns.
  const std::vector<ChatMessage> m = {
      {"user", "q"},
      ChatMessage::assistant_tool_calls({{"a", "f", "{}"}, {"b", "g", "[1]"}}, "Let me check."),
      ChatMessage::tool_result("a", "r1"),
      ChatMessage::tool_result("b", "r2"),
      ChatMessage::assistant_tool_calls({{"c", "h", "{\"y\": 2}"}}),
      ChatMessage::tool_result("c", "r3"),
  };
  EXPECT_RENDER_EQ(
      render_chat(ChatFormat::DeepSeekR1, m, "", gen(true)),
      kBos +
          "<｜User｜>q<｜Assistant｜>Let me check.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n"
          "```json\n{}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>g\n```json\n[1]\n```"
          "<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>r1"
          "<｜tool▁output▁end｜><｜tool▁output▁begin｜>r2<｜tool▁output▁end｜>\n<｜tool▁call▁begin｜>function"
          "<｜tool▁sep｜>h\n```json\n{\"y\": 2}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
          "<｜tool▁output▁begin｜>r3<｜tool▁output▁end｜><｜tool▁outputs▁end｜>");
}

TEST(ChatTemplateTools, DeepSeekDeclarationIsFixedText) {
  const std::string tools = R"([{"type":"function","function":{"name":"f","description":"Does f.","parameters":{}}}])";
  EXPECT_EQ(deepseek_tool_declaration(tools),
            "## Tools\n\n"
            "You can call functions to help with your answer. Each line below declares one as JSON: its name, what it "
            "does, and its parameters as a JSON Schema.\n"
            R"({"type": "function", "function": {"name": "f", "description": "Does f.", "parameters": {}}})"
            "\n\n"
            "To call functions, reply with exactly this and nothing after it:\n"
            "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGUMENTS\n```"
            "<｜tool▁call▁end｜><｜tool▁calls▁end｜>\n"
            "NAME is one of the functions declared above and ARGUMENTS is a JSON object that follows its parameters. "
            "For several calls, write one <｜tool▁call▁begin｜>...<｜tool▁call▁end｜> block per call, separated by a "
            "newline, all inside the one <｜tool▁calls▁begin｜>...<｜tool▁calls▁end｜>. Each result comes back between "
            "<｜tool▁output▁begin｜> and <｜tool▁output▁end｜>.");
  EXPECT_EQ(deepseek_tool_declaration(""), "");
  EXPECT_EQ(deepseek_tool_declaration("[]"), "");
}

size_t occurrences(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

TEST(ChatTemplateTools, DeepSeekDeclarationOnlyWhenAskedAndGiven) {
  const ojson& c = golden_case("deepseek-v3", "tools_declared_only", true);
  const std::string tools = c["tools"].dump();
  const std::string decl = deepseek_tool_declaration(tools);
  ASSERT_FALSE(decl.empty());
  // Every declaration on its own line, as Kimi's tool_declare writes them.
  EXPECT_EQ(occurrences(decl, "\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\""), 1u) << decl;
  EXPECT_EQ(occurrences(decl, "\n{\"type\": \"function\", \"function\": {\"name\": \"web_search\""), 1u) << decl;

  ChatRenderOptions on = gen(true);
  on.declare_tools_for_deepseek = true;
  for (const auto format : {ChatFormat::DeepSeekV3, ChatFormat::DeepSeekR1}) {
    SCOPED_TRACE(chat_format_name(format));
    // Without system messages the declaration is the whole system prompt.
    const std::vector<ChatMessage> user_only = {{"user", "Find the weather in Oslo"}};
    const std::string with = render_chat(format, user_only, tools, on);
    EXPECT_RENDER_EQ(with, kBos + decl + "<｜User｜>Find the weather in Oslo<｜Assistant｜>");
    EXPECT_EQ(occurrences(with, "## Tools"), 1u);
    // After all system prompts, once, even with two of them.
    const std::vector<ChatMessage> two_systems = {{"system", "A"}, {"user", "u"}, {"system", "B"}};
    const std::string joined = render_chat(format, two_systems, tools, on);
    EXPECT_RENDER_EQ(joined, kBos + "A\n\nB\n\n" + decl + "<｜User｜>u<｜Assistant｜>");
    EXPECT_EQ(occurrences(joined, decl), 1u);
    // No tools, an empty list, or the option off: no declaration at all.
    for (const std::string& none : {std::string(""), std::string("null"), std::string("[]")})
      EXPECT_EQ(render_chat(format, two_systems, none, on), kBos + "A\n\nB<｜User｜>u<｜Assistant｜>");
    EXPECT_EQ(render_chat(format, two_systems, tools, gen(true)), kBos + "A\n\nB<｜User｜>u<｜Assistant｜>");
    EXPECT_EQ(occurrences(render_chat(format, two_systems, tools, gen(true)), "## Tools"), 0u);
  }
}

// Runs f, which must throw Error whose message holds every one of parts.
void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected Error mentioning " << parts.front();
  } catch (const Error& e) {
    for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(ChatTemplateTools, ErrorsNameMessageAndField) {
  for (const auto f : {ChatFormat::DeepSeekV3, ChatFormat::DeepSeekR1, ChatFormat::KimiK2}) {
    SCOPED_TRACE(chat_format_name(f));
    expect_error([&] { render_chat(f, {{"user", "a"}, {"assistant", "b"}, {"critic", "c"}}, "", gen(true)); },
                 {"chat message 2", "'role'", "critic"});
    expect_error([&] { render_chat(f, {{"user", "a"}, {"tool", "out"}}, "", gen(true)); },
                 {"chat message 1", "'tool_call_id'"});
    expect_error(
        [&] {
          const ChatMessage bad = ChatMessage::assistant_tool_calls({{"i", "f", "{}"}, {"j", "g", "{\"x\": }"}});
          render_chat(f, {{"user", "a"}, bad}, "", gen(true));
        },
        {"chat message 1", "'tool_calls[1].function.arguments'", "not valid JSON"});
    expect_error([&] { render_chat(f, {ChatMessage::assistant_tool_calls({{"i", "", "{}"}})}, "", gen(true)); },
                 {"chat message 0", "'tool_calls[0].function.name'"});
    ChatMessage user_with_calls{"user", "u", {{"i", "f", "{}"}}};
    expect_error([&] { render_chat(f, {user_with_calls}, "", gen(true)); }, {"chat message 0", "'tool_calls'"});
    expect_error([&] { render_chat(f, {{"user", "a"}}, "{\"type\": \"function\"}", gen(true)); },
                 {"tools", "array"});
    expect_error([&] { render_chat(f, {{"user", "a"}}, R"([{"type": "function", "function": {}}])", gen(true)); },
                 {"tools[0].function.name"});
    expect_error([&] { render_chat(f, {{"user", "a"}}, "[{", gen(true)); }, {"tools", "malformed JSON"});
  }
  // Null content where the DeepSeek templates would fail on it.
  ChatMessage null_user{"user", ""};
  null_user.content_is_null = true;
  expect_error([&] { render_chat(ChatFormat::DeepSeekV3, {{"system", "s"}, null_user}, "", gen(true)); },
               {"chat message 1", "'content'"});
  ChatMessage null_assistant{"assistant", ""};
  null_assistant.content_is_null = true;
  expect_error([&] { render_chat(ChatFormat::DeepSeekR1, {{"user", "q"}, null_assistant}, "", gen(true)); },
               {"chat message 1", "'content'"});
  EXPECT_NO_THROW(render_chat(ChatFormat::KimiK2, {null_user}, "", gen(true)));
  // The original overload still takes tool messages without ids.
  EXPECT_NO_THROW(render_chat(ChatFormat::DeepSeekV3, {{"user", "a"}, {"tool", "out"}}, true));
}

TEST(ChatTemplateTools, ParsesOpenAiMessages) {
  const auto m = parse_chat_messages(R"([
    {"role": "system", "content": "s", "name": "ignored"},
    {"role": "assistant", "content": null, "tool_calls": [
      {"id": "c0", "type": "function", "function": {"name": "f", "arguments": "{\"a\": [1, 2]}"}},
      {"id": "c1", "function": {"name": "g", "arguments": "{}"}}]},
    {"role": "tool", "tool_call_id": "c0", "content": "out"},
    {"role": "assistant"}])");
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].role, "system");
  EXPECT_EQ(m[0].content, "s");
  EXPECT_FALSE(m[0].content_is_null);
  EXPECT_TRUE(m[1].content_is_null);
  ASSERT_EQ(m[1].tool_calls.size(), 2u);
  EXPECT_EQ(m[1].tool_calls[0].id, "c0");
  EXPECT_EQ(m[1].tool_calls[0].name, "f");
  EXPECT_EQ(m[1].tool_calls[0].arguments, "{\"a\": [1, 2]}");  // verbatim, not re-serialized
  EXPECT_EQ(m[1].tool_calls[1].type, "function");
  EXPECT_EQ(m[2].tool_call_id, "c0");
  EXPECT_TRUE(m[3].content_is_null);

  expect_error([] { parse_chat_messages("{\"role\": \"user\"}"); }, {"array"});
  expect_error([] { parse_chat_messages("[{\"role\": \"user\", \"content\": \"a\"}, {\"content\": \"b\"}]"); },
               {"chat message 1", "'role'"});
  expect_error([] { parse_chat_messages(R"([{"role": "user", "content": [{"type": "text", "text": "a"}]}])"); },
               {"chat message 0", "'content'"});
  expect_error([] { parse_chat_messages(R"([{"role": "tool", "tool_call_id": 7, "content": "a"}])"); },
               {"chat message 0", "'tool_call_id'"});
  expect_error(
      [] {
        parse_chat_messages(R"([{"role": "user", "content": "u"}, {"role": "assistant", "tool_calls": [)"
                            R"({"function": {"name": "f", "arguments": {"a": 1}}}]}])");
      },
      {"chat message 1", "'tool_calls[0].function.arguments'"});
  expect_error([] { parse_chat_messages(R"([{"role": "assistant", "tool_calls": [{"id": "x"}]}])"); },
               {"chat message 0", "'tool_calls[0].function'"});
  expect_error([] { parse_chat_messages("[{]"); }, {"malformed JSON"});
}

TEST(PythonJson, DumpsAsPythonDoes) {
  // Expected texts are Python 3's json.dumps(json.loads(x), ensure_ascii=False).
  EXPECT_EQ(python_json_dumps(R"({"b":1,"a":[1.5,-0.0,1e16,1e15,0.0001,1e-5,2.5e-7,100,12345678901234567890123,-7,)"
                              R"(-0,1E2,0.30000000000000004,1.0,123456789012345678,-1.5E-10,5e-324,)"
                              R"(1.7976931348623157e308, 123456.789e3]})",
                              "t"),
            R"({"b": 1, "a": [1.5, -0.0, 1e+16, 1000000000000000.0, 0.0001, 1e-05, 2.5e-07, 100, )"
            R"(12345678901234567890123, -7, 0, 100.0, 0.30000000000000004, 1.0, 123456789012345678, -1.5e-10, )"
            R"(5e-324, 1.7976931348623157e+308, 123456789.0]})");
  EXPECT_EQ(python_json_dumps(R"({"s":"é\n\t\"\\\u0001\u007f\u001f/\b\f\r\u2028 ok","e":{},"l":[],"t":true,)"
                              R"("f":false,"n":null})",
                              "t"),
            "{\"s\": \"é\\n\\t\\\"\\\\\\u0001\x7f\\u001f/\\b\\f\\r\u2028 ok\", \"e\": {}, \"l\": [], \"t\": true, "
            "\"f\": false, \"n\": null}");
  // A repeated key keeps its first position and its last value, as a dict.
  EXPECT_EQ(python_json_dumps(R"({"a":1,"b":2,"a":{"x":[3]}})", "t"), R"({"a": {"x": [3]}, "b": 2})");
  EXPECT_EQ(python_json_array_items(R"( [ {"z" : 1 , "y":[ ]} , "x" ] )", "t"),
            (std::vector<std::string>{R"({"z": 1, "y": []})", R"("x")"}));
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(-2.0), "-2.0");
  EXPECT_EQ(python_float_repr(1e22), "1e+22");
  expect_error([] { python_json_dumps("{\"a\": }", "tools"); }, {"tools", "malformed JSON"});
  expect_error([] { python_json_dumps("[1] 2", "tools"); }, {"tools", "malformed JSON"});
  expect_error([] { python_json_array_items("{}", "tools"); }, {"tools", "array"});
}

}  // namespace
}  // namespace dsinfer::test
