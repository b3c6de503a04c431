#include "server/openai_request.h"

#include "io/error.h"
#include "io/strict_json.h"

namespace dsinfer::server {
namespace {

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw ApiError(400, "'" + field + "' " + why, field);
}

// Optional field of a given JSON type (null counts as absent).
const nlohmann::json* field(const nlohmann::json& j, const char* name) {
  const auto it = j.find(name);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> number(const nlohmann::json& j, const char* name) {
  const auto* v = field(j, name);
  if (!v) return std::nullopt;
  if (!v->is_number()) bad(name, "must be a number");
  return v->get<double>();
}

std::optional<int64_t> integer(const nlohmann::json& j, const char* name) {
  const auto* v = field(j, name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) bad(name, "must be an integer");
  return v->get<int64_t>();
}

std::optional<bool> boolean(const nlohmann::json& j, const char* name) {
  const auto* v = field(j, name);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) bad(name, "must be a boolean");
  return v->get<bool>();
}

std::string string_field(const nlohmann::json& j, const char* name) {
  const auto* v = field(j, name);
  if (!v) return "";
  if (!v->is_string()) bad(name, "must be a string");
  return v->get<std::string>();
}

GenerationSettings parse_settings(const nlohmann::json& j) {
  GenerationSettings g;
  if (auto v = integer(j, "max_completion_tokens")) g.max_tokens = *v;
  else if (auto w = integer(j, "max_tokens")) g.max_tokens = *w;
  if (g.max_tokens && *g.max_tokens < 1) bad(j.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens", "must be >= 1");
  SamplingParams& s = g.sampling;
  if (auto v = number(j, "temperature")) {
    if (*v < 0 || *v > 2) bad("temperature", "must be in [0, 2]");
    s.temperature = static_cast<float>(*v);
  } else {
    s.temperature = 1.0f;  // the OpenAI default
  }
  if (auto v = number(j, "top_p")) s.top_p = static_cast<float>(*v);
  if (auto v = integer(j, "top_k")) s.top_k = *v < 0 ? 0 : *v;  // -1: off, as vLLM
  if (auto v = number(j, "min_p")) s.min_p = static_cast<float>(*v);
  if (auto v = integer(j, "seed")) s.seed = static_cast<uint64_t>(*v);
  if (auto v = number(j, "presence_penalty")) s.presence_penalty = static_cast<float>(*v);
  if (auto v = number(j, "frequency_penalty")) s.frequency_penalty = static_cast<float>(*v);
  if (auto v = number(j, "repetition_penalty")) s.repetition_penalty = static_cast<float>(*v);
  try {
    validate(s);
  } catch (const Error& e) {
    const std::string m = e.what();
    throw ApiError(400, m, m.substr(0, m.find(' ')));
  }
  if (auto v = integer(j, "n")) {
    if (*v < 1 || *v > 16) bad("n", "must be in [1, 16]");
    g.n = *v;
  }
  if (const auto* v = field(j, "stop")) {
    if (v->is_string()) {
      g.stop.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      if (v->size() > 8) bad("stop", "may hold at most 8 strings");
      for (const auto& x : *v) {
        if (!x.is_string()) bad("stop", "must be a string or an array of strings");
        g.stop.push_back(x.get<std::string>());
      }
    } else {
      bad("stop", "must be a string or an array of strings");
    }
    for (const auto& x : g.stop)
      if (x.empty()) bad("stop", "strings must not be empty");
  }
  if (auto v = boolean(j, "stream")) g.stream = *v;
  if (const auto* v = field(j, "stream_options")) {
    if (!v->is_object()) bad("stream_options", "must be an object");
    if (auto u = boolean(*v, "include_usage")) g.include_usage = *u;
  }
  if (auto v = boolean(j, "ignore_eos")) g.ignore_eos = *v;
  return g;
}

void parse_logprobs(const nlohmann::json& j, GenerationSettings& g, bool chat) {
  if (chat) {
    const bool on = boolean(j, "logprobs").value_or(false);
    if (auto v = integer(j, "top_logprobs")) {
      if (*v < 0 || *v > 20) bad("top_logprobs", "must be in [0, 20]");
      if (!on) bad("top_logprobs", "needs logprobs: true");
      g.sampling.top_logprobs = *v;
    }
    g.sampling.logprobs = on;
  } else if (auto v = integer(j, "logprobs")) {  // completions: the number of alternatives
    if (*v < 0 || *v > 20) bad("logprobs", "must be in [0, 20]");
    g.sampling.logprobs = true;
    g.sampling.top_logprobs = *v;
  }
}

std::string message_content(const nlohmann::json& m, size_t i, bool* is_null) {
  const std::string where = "messages[" + std::to_string(i) + "].content";
  const auto it = m.find("content");
  *is_null = it == m.end() || it->is_null();
  if (*is_null) return "";
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) bad(where, "must be a string or an array of content parts");
  std::string text;
  for (const auto& part : *it) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
      bad(where, "parts must be {\"type\": \"text\", \"text\": ...} (only text is supported)");
    text += part["text"].get<std::string>();
  }
  return text;
}

}  // namespace

nlohmann::json parse_body(const std::string& body) {
  nlohmann::json j;
  try {
    j = parse_json_strict(body, "the body");
  } catch (const Error& e) {
    throw ApiError(400, e.what());
  }
  if (!j.is_object()) throw ApiError(400, "the body must be a JSON object");
  return j;
}

ChatRequest parse_chat_request(const std::string& body) {
  const nlohmann::json j = parse_body(body);
  ChatRequest r;
  r.model = string_field(j, "model");
  const auto* msgs = field(j, "messages");
  if (!msgs || !msgs->is_array()) bad("messages", "is required and must be an array");
  if (msgs->empty()) bad("messages", "must not be empty");
  for (size_t i = 0; i < msgs->size(); ++i) {
    const auto& m = (*msgs)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) bad(where, "must be an object");
    if (!m.contains("role") || !m["role"].is_string()) bad(where + ".role", "is required and must be a string");
    std::string role = m["role"].get<std::string>();
    if (role == "developer") role = "system";  // the newer name of the system role
    if (role != "system" && role != "user" && role != "assistant" && role != "tool")
      bad(where + ".role", "must be system, developer, user, assistant or tool, got '" + role + "'");
    ChatMessage msg;
    msg.role = role;
    msg.content = message_content(m, i, &msg.content_is_null);
    if (const auto* calls = field(m, "tool_calls")) {
      if (!calls->is_array()) bad(where + ".tool_calls", "must be an array");
      for (size_t k = 0; k < calls->size(); ++k) {
        const auto& c = (*calls)[k];
        const std::string cw = where + ".tool_calls[" + std::to_string(k) + "]";
        if (!c.is_object() || !c.contains("function") || !c["function"].is_object())
          bad(cw, "must be {\"id\", \"type\": \"function\", \"function\": {\"name\", \"arguments\"}}");
        const auto& f = c["function"];
        ChatToolCall tc;
        tc.id = string_field(c, "id");
        tc.name = string_field(f, "name");
        tc.arguments = string_field(f, "arguments");
        if (tc.name.empty()) bad(cw + ".function.name", "is required");
        if (tc.arguments.empty()) tc.arguments = "{}";
        msg.tool_calls.push_back(std::move(tc));
      }
    }
    if (role == "tool") {
      msg.tool_call_id = string_field(m, "tool_call_id");
      if (msg.tool_call_id.empty()) bad(where + ".tool_call_id", "is required for tool messages");
    }
    r.messages.push_back(std::move(msg));
  }
  r.gen = parse_settings(j);
  parse_logprobs(j, r.gen, true);
  if (const auto* tools = field(j, "tools")) {
    if (!tools->is_array()) bad("tools", "must be an array of function declarations");
    for (size_t k = 0; k < tools->size(); ++k) {
      const auto& t = (*tools)[k];
      if (!t.is_object() || !t.contains("function") || !t["function"].is_object() ||
          !t["function"].contains("name") || !t["function"]["name"].is_string())
        bad("tools[" + std::to_string(k) + "]", "must be {\"type\": \"function\", \"function\": {\"name\", ...}}");
    }
    // Declarations go into the prompt as sent: keep the client's key order.
    if (!tools->empty()) r.tools_json = nlohmann::ordered_json::parse(body)["tools"].dump();
  }
  if (const auto* tc = field(j, "tool_choice")) {
    if (tc->is_string()) {
      const std::string v = tc->get<std::string>();
      if (v == "auto") r.tool_choice = ToolChoice::Auto;
      else if (v == "none") r.tool_choice = ToolChoice::None;
      else if (v == "required") r.tool_choice = ToolChoice::Required;
      else bad("tool_choice", "must be auto, none, required or {\"type\": \"function\", \"function\": {\"name\"}}");
    } else if (tc->is_object() && tc->contains("function") && (*tc)["function"].is_object() &&
               (*tc)["function"].contains("name") && (*tc)["function"]["name"].is_string()) {
      r.tool_choice = ToolChoice::Named;
      r.tool_name = (*tc)["function"]["name"].get<std::string>();
    } else {
      bad("tool_choice", "must be auto, none, required or {\"type\": \"function\", \"function\": {\"name\"}}");
    }
    if (r.tool_choice != ToolChoice::None && r.tool_choice != ToolChoice::Auto && r.tools_json.empty())
      bad("tool_choice", "needs tools");
    if (r.tool_choice == ToolChoice::Named) {  // declare only the named function
      nlohmann::ordered_json kept = nlohmann::ordered_json::array();
      for (const auto& t : nlohmann::ordered_json::parse(r.tools_json))
        if (t["function"]["name"] == r.tool_name) kept.push_back(t);
      if (kept.empty()) bad("tool_choice", "names '" + r.tool_name + "', which is not among the tools");
      r.tools_json = kept.dump();
    }
  }
  return r;
}

CompletionRequest parse_completion_request(const std::string& body) {
  const nlohmann::json j = parse_body(body);
  CompletionRequest r;
  r.model = string_field(j, "model");
  const auto* p = field(j, "prompt");
  if (!p) bad("prompt", "is required");
  if (p->is_string()) {
    r.prompt = p->get<std::string>();
    if (r.prompt.empty()) bad("prompt", "must not be empty");
  } else if (p->is_array() && !p->empty() && (*p)[0].is_number_integer()) {
    for (const auto& t : *p) {
      if (!t.is_number_integer()) bad("prompt", "token id lists must hold integers only");
      const int64_t id = t.get<int64_t>();
      if (id < 0 || id > INT32_MAX) bad("prompt", "token id " + std::to_string(id) + " is out of range");
      r.prompt_ids.push_back(static_cast<int32_t>(id));
    }
    r.has_ids = true;
  } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
    r.prompt = (*p)[0].get<std::string>();  // a batch of one
  } else {
    bad("prompt", "must be a string, or an array of token ids (batches of several prompts are not supported)");
  }
  r.gen = parse_settings(j);
  parse_logprobs(j, r.gen, false);
  return r;
}

}  // namespace dsinfer::server
