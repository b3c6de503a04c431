#include "server/openai_server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <random>

#include "io/error.h"
#include "server/api_error.h"
#include "server/openai_request.h"
#include "server/output_text.h"

namespace dsinfer::server {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int kListenBacklog = 1024;  // pending connections the kernel queues

// Model text may hold invalid UTF-8 (a token's raw bytes): replace, never throw.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string random_id(const char* prefix) {
  static thread_local std::mt19937_64 gen(std::random_device{}());
  char b[40];
  std::snprintf(b, sizeof(b), "%s%016llx", prefix, static_cast<unsigned long long>(gen()));
  return b;
}

// Constant-time comparison of the bearer key (no early exit on the first mismatch).
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) { send_json(res, e.status(), e.body()); }

// One choice of a request while it runs.
struct Choice {
  int index = 0;
  RequestId id = 0;
  std::shared_ptr<RequestChannel> channel;
  std::unique_ptr<OutputText> text;
  std::vector<SampledToken> tokens;  // with logprobs, the tokens emitted as text
  int64_t completion_tokens = 0;
  std::string finish_reason;  // "" while running
  bool role_sent = false;
  Clock::time_point last_token;
};

struct Job {
  bool chat = true;
  std::string id, model;
  int64_t created = 0;
  std::vector<int32_t> prompt;
  GenerationSettings gen;
  std::optional<bool> reasoning;
  std::optional<ToolCallFormat> tools;  // parse tool calls out of the answer
  std::string forced;                   // appended to the prompt and primed as the answer's start
  std::vector<int32_t> stop_ids;
  int64_t cached_prompt_tokens = 0;
  Clock::time_point start;
  std::vector<Choice> choices;
};

}  // namespace

struct OpenAiServer::Impl {
  ServerConfig cfg;
  const Tokenizer& tok;
  const ModelConfig& model;
  EngineService& engine;
  ServerMetrics metrics;
  httplib::Server http;
  socket_t listen_socket = -1;  // recorded by the socket-options hook
  std::vector<int32_t> eos_ids;

  Impl(const ServerConfig& c, const Tokenizer& t, const ModelConfig& m, EngineService& e)
      : cfg(c), tok(t), model(m), engine(e) {
    for (int64_t id : m.eos_token_ids) eos_ids.push_back(static_cast<int32_t>(id));
    if (t.eos_id() && std::find(eos_ids.begin(), eos_ids.end(), *t.eos_id()) == eos_ids.end())
      eos_ids.push_back(*t.eos_id());
    routes();
  }

  void check_model(const std::string& name) const {
    if (!name.empty() && name != cfg.served_model_name)
      throw ApiError(404, "the model '" + name + "' does not exist; this server serves '" + cfg.served_model_name + "'",
                     "model", "invalid_request_error");
  }

  // Prompt length, max_tokens and the context window.
  int64_t completion_budget(const Job& job) const {
    const int64_t n = static_cast<int64_t>(job.prompt.size());
    if (n >= cfg.max_model_len)
      throw ApiError(400, "the prompt has " + std::to_string(n) + " tokens; this model's maximum context length is " +
                              std::to_string(cfg.max_model_len) + " tokens",
                     "messages");
    const int64_t room = cfg.max_model_len - n;
    if (job.gen.max_tokens && *job.gen.max_tokens > room)
      throw ApiError(400, "prompt (" + std::to_string(n) + " tokens) + max_tokens (" +
                              std::to_string(*job.gen.max_tokens) + ") exceeds the maximum context length of " +
                              std::to_string(cfg.max_model_len) + " tokens",
                     "max_tokens");
    return job.gen.max_tokens.value_or(room);
  }

  void start(Job& job) {
    for (int32_t id : job.prompt)
      if (id < 0 || id >= model.vocab_size)
        throw ApiError(400, "token id " + std::to_string(id) + " is out of the vocabulary (" +
                                std::to_string(model.vocab_size) + ")",
                       "prompt");
    const int64_t budget = completion_budget(job);
    if (!job.gen.ignore_eos) job.stop_ids = eos_ids;
    job.start = Clock::now();
    for (int64_t i = 0; i < job.gen.n; ++i) {
      SchedulerRequest r;
      r.prompt = job.prompt;
      r.max_new_tokens = budget;
      r.sampling = job.gen.sampling;
      if (r.sampling.seed) r.sampling.seed = *r.sampling.seed + static_cast<uint64_t>(i);  // n distinct samples
      r.stop_token_ids = job.stop_ids;
      Choice c;
      c.index = static_cast<int>(i);
      c.text = std::make_unique<OutputText>(tok, job.gen.stop, job.reasoning, job.tools);
      if (!job.forced.empty()) c.text->prime(job.forced);
      try {
        c.channel = engine.submit(std::move(r), &c.id);
      } catch (...) {
        cancel(job);
        throw;
      }
      job.choices.push_back(std::move(c));
    }
  }

  void cancel(Job& job) {
    for (auto& c : job.choices)
      if (c.finish_reason.empty() && c.channel) engine.cancel(c.id);
  }

  bool finished(const Job& job) const {
    return std::all_of(job.choices.begin(), job.choices.end(), [](const Choice& c) { return !c.finish_reason.empty(); });
  }

  struct Delta {
    int index;
    OutputText::Delta text;
    std::vector<SampledToken> tokens;
    std::string finish_reason;
  };

  // Takes the choice's new outputs; returns what the client should see.
  Delta pump(Job& job, Choice& c, std::chrono::milliseconds wait) {
    Delta d{c.index, {}, {}, ""};
    if (!c.finish_reason.empty()) return d;
    for (RequestOutput& o : c.channel->wait(wait)) {
      if (o.cached_prompt_tokens) job.cached_prompt_tokens = std::max(job.cached_prompt_tokens, o.cached_prompt_tokens);
      for (const SampledToken& t : o.tokens) {
        const auto now = Clock::now();
        if (c.completion_tokens == 0) metrics.ttft.observe(std::chrono::duration<double>(now - job.start).count());
        else metrics.itl.observe(std::chrono::duration<double>(now - c.last_token).count());
        c.last_token = now;
        ++c.completion_tokens;
        const bool ends = std::find(job.stop_ids.begin(), job.stop_ids.end(), t.token) != job.stop_ids.end();
        if (ends) continue;  // EOS is not text
        OutputText::Delta td = c.text->push(t.token);
        d.text.content += td.content;
        d.text.reasoning += td.reasoning;
        d.text.calls.insert(d.text.calls.end(), td.calls.begin(), td.calls.end());
        if (job.gen.sampling.logprobs) {
          c.tokens.push_back(t);
          d.tokens.push_back(t);
        }
        if (td.stopped) {
          engine.cancel(c.id);  // a stop string: the rest is never needed
          c.finish_reason = c.text->calls().empty() ? "stop" : "tool_calls";
          d.finish_reason = c.finish_reason;
          return d;
        }
      }
      if (o.finish != FinishReason::None) {
        OutputText::Delta td = c.text->finish();
        d.text.content += td.content;
        d.text.reasoning += td.reasoning;
        d.text.calls.insert(d.text.calls.end(), td.calls.begin(), td.calls.end());
        c.finish_reason = o.finish == FinishReason::Length && !td.stopped ? "length" : "stop";
        if (c.finish_reason == "stop" && !c.text->calls().empty()) c.finish_reason = "tool_calls";
        d.finish_reason = c.finish_reason;
        return d;
      }
    }
    if (c.finish_reason.empty() && c.channel->finished() && !c.channel->error().empty())
      throw ApiError(500, c.channel->error(), "", "server_error");
    return d;
  }

  json usage(const Job& job) const {
    int64_t completion = 0;
    for (const auto& c : job.choices) completion += c.completion_tokens;
    const int64_t prompt = static_cast<int64_t>(job.prompt.size());
    json u = {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
    if (job.cached_prompt_tokens > 0) u["prompt_tokens_details"] = {{"cached_tokens", job.cached_prompt_tokens}};
    return u;
  }

  // A token's raw text ("" for ids the model's padded vocabulary has beyond the tokenizer's).
  std::string token_text(int32_t id) const {
    return id >= 0 && id < tok.vocab_size() ? std::string(tok.token_bytes(id)) : std::string();
  }

  json token_entry(const SampledToken& t) const {
    auto one = [&](int32_t id, float lp) {
      const std::string s = token_text(id);
      json bytes = json::array();
      for (unsigned char ch : s) bytes.push_back(static_cast<int>(ch));
      return json{{"token", s}, {"logprob", lp}, {"bytes", bytes}};
    };
    json e = one(t.token, t.logprob);
    e["top_logprobs"] = json::array();
    for (const auto& a : t.top_logprobs) e["top_logprobs"].push_back(one(a.token, a.logprob));
    return e;
  }

  json logprobs_json(const Job& job, const std::vector<SampledToken>& tokens) const {
    if (!job.gen.sampling.logprobs) return nullptr;
    if (job.chat) {
      json content = json::array();
      for (const auto& t : tokens) content.push_back(token_entry(t));
      return {{"content", content}};
    }
    json toks = json::array(), lps = json::array(), tops = json::array();
    for (const auto& t : tokens) {
      toks.push_back(token_text(t.token));
      lps.push_back(t.logprob);
      json top = json::object();
      for (const auto& a : t.top_logprobs) top[token_text(a.token)] = a.logprob;
      tops.push_back(top);
    }
    return {{"tokens", toks}, {"token_logprobs", lps}, {"top_logprobs", tops}};
  }

  void finish_metrics(const Job& job, int status) {
    metrics.request_done(status);
    int64_t completion = 0;
    for (const auto& c : job.choices) completion += c.completion_tokens;
    metrics.tokens(static_cast<int64_t>(job.prompt.size()), completion);
    metrics.e2e.observe(std::chrono::duration<double>(Clock::now() - job.start).count());
  }

  // Non-streaming: wait for every choice, answer once.
  void respond_whole(Job& job, httplib::Response& res) {
    while (!finished(job))
      for (auto& c : job.choices) pump(job, c, std::chrono::milliseconds(50));
    json choices = json::array();
    for (auto& c : job.choices) {
      json ch = {{"index", c.index}, {"finish_reason", c.finish_reason}, {"logprobs", logprobs_json(job, c.tokens)}};
      if (job.chat) {
        json msg = {{"role", "assistant"}, {"content", c.text->content()}};
        if (job.reasoning) msg["reasoning_content"] = c.text->reasoning();
        const auto calls = c.text->calls();
        if (!calls.empty()) {
          json tc = json::array();
          for (const auto& call : calls)
            tc.push_back({{"id", call.id}, {"type", "function"},
                          {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
          msg["tool_calls"] = tc;
          if (c.text->content().empty()) msg["content"] = nullptr;
        }
        ch["message"] = msg;
      } else {
        ch["text"] = c.text->content();
      }
      choices.push_back(ch);
    }
    json body = {{"id", job.id},
                 {"object", job.chat ? "chat.completion" : "text_completion"},
                 {"created", job.created},
                 {"model", job.model},
                 {"choices", choices},
                 {"usage", usage(job)}};
    send_json(res, 200, body);
    finish_metrics(job, 200);
  }

  json chunk(const Job& job, json choices) const {
    json c = {{"id", job.id},
              {"object", job.chat ? "chat.completion.chunk" : "text_completion"},
              {"created", job.created},
              {"model", job.model},
              {"choices", std::move(choices)}};
    if (job.gen.include_usage) c["usage"] = nullptr;
    return c;
  }

  json delta_choice(const Job& job, Choice& c, const Delta& d) const {
    json ch = {{"index", c.index}, {"logprobs", d.tokens.empty() ? json(nullptr) : logprobs_json(job, d.tokens)},
               {"finish_reason", d.finish_reason.empty() ? json(nullptr) : json(d.finish_reason)}};
    if (job.chat) {
      json delta = json::object();
      if (!c.role_sent) {
        delta["role"] = "assistant";
        delta["content"] = "";
        c.role_sent = true;
      }
      if (!d.text.reasoning.empty()) delta["reasoning_content"] = d.text.reasoning;
      if (!d.text.content.empty()) delta["content"] = d.text.content;
      if (!d.text.calls.empty()) {
        json tc = json::array();
        for (const auto& call : d.text.calls)
          tc.push_back({{"index", call.index}, {"id", call.id}, {"type", "function"},
                        {"function", {{"name", call.name}, {"arguments", call.arguments_fragment}}}});
        delta["tool_calls"] = tc;
      }
      ch["delta"] = delta;
    } else {
      ch["text"] = d.text.content;
    }
    return ch;
  }

  // Streaming: Server-Sent Events, one chunk per delta, [DONE] last. A client
  // that goes away cancels its request.
  void respond_stream(std::shared_ptr<Job> job, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, job](size_t, httplib::DataSink& sink) {
          try {
            return stream_events(*job, sink);
          } catch (const std::exception& e) {  // never take the process down with a stream
            const std::string s = "data: " + dump(ApiError(500, std::string("internal error: ") + e.what(), "", "server_error").body()) + "\n\n";
            sink.write(s.data(), s.size());
            cancel(*job);
            sink.done();
            return true;
          }
        },
        [this, job](bool) { cancel(*job); });
  }

  bool stream_events(Job& job_ref, httplib::DataSink& sink) {
          Job* job = &job_ref;
          auto send = [&](const std::string& s) { return sink.write(s.data(), s.size()); };
          if (job->chat) {  // the role first, as OpenAI does
            json first = json::array();
            for (auto& c : job->choices) first.push_back(delta_choice(*job, c, Delta{c.index, {}, {}, ""}));
            if (!send("data: " + dump(chunk(*job, first)) + "\n\n")) {
              cancel(*job);
              return false;
            }
          }
          while (!finished(*job)) {
            for (auto& c : job->choices) {
              Delta d;
              try {
                d = pump(*job, c, std::chrono::milliseconds(job->choices.size() > 1 ? 5 : 50));
              } catch (const ApiError& e) {
                send("data: " + dump(e.body()) + "\n\n");
                cancel(*job);
                sink.done();
                return true;
              }
              if (d.text.content.empty() && d.text.reasoning.empty() && d.text.calls.empty() && d.tokens.empty() &&
                  d.finish_reason.empty() && c.finish_reason.empty())
                continue;
              if (d.finish_reason.empty() && !c.finish_reason.empty()) d.finish_reason = c.finish_reason;
              if (!send("data: " + dump(chunk(*job, json::array({delta_choice(*job, c, d)}))) + "\n\n")) {
                cancel(*job);
                finish_metrics(*job, 499);  // the client closed the connection
                return false;
              }
            }
          }
          if (job->gen.include_usage) {
            json u = chunk(*job, json::array());
            u["usage"] = usage(*job);
            send("data: " + dump(u) + "\n\n");
          }
          send("data: [DONE]\n\n");
          finish_metrics(*job, 200);
          sink.done();
          return true;
  }

  void run_job(std::shared_ptr<Job> job, httplib::Response& res) {
    start(*job);
    if (job->gen.stream) respond_stream(job, res);
    else respond_whole(*job, res);
  }

  std::vector<ChatMessage> tokenize_messages(const json& j) const {
    ChatRequest r = parse_chat_request(dump(j));
    return r.messages;
  }

  std::vector<int32_t> encode(const std::string& text, const char* param) const {
    try {
      return tok.encode(text);
    } catch (const Error& e) {
      throw ApiError(400, e.what(), param);
    }
  }

  std::vector<int32_t> encode_messages(const std::vector<ChatMessage>& messages, bool generation_prompt,
                                       std::string* rendered, const std::string& tools_json = "") const {
    if (!tok.chat_format()) throw ApiError(400, "this model directory has no supported chat template", "messages");
    try {
      // DeepSeek's templates do not declare tools: the server adds the declaration.
      *rendered = render_chat(*tok.chat_format(), messages, tools_json,
                              ChatRenderOptions{generation_prompt, /*declare_tools_for_deepseek=*/true});
      return tok.encode(*rendered);
    } catch (const Error& e) {
      throw ApiError(400, e.what(), "messages");
    }
  }

  template <class Fn>
  auto guarded(Fn fn) {
    return [this, fn](const httplib::Request& req, httplib::Response& res) {
      try {
        fn(req, res);
      } catch (const ApiError& e) {
        send_error(res, e);
        if (e.status() == 503) res.set_header("Retry-After", "1");  // the queue drains within seconds
        metrics.request_done(e.status());
      } catch (const std::exception& e) {
        send_error(res, ApiError(500, std::string("internal error: ") + e.what(), "", "server_error"));
        metrics.request_done(500);
      }
    };
  }

  void routes() {
    // cpp-httplib's default sets SO_REUSEPORT, which lets a second server
    // bind the same port and silently split the traffic: ask for
    // SO_REUSEADDR only, so a taken port is an error.
    http.set_socket_options([this](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_socket = sock;
    });
    http.set_payload_max_length(cfg.max_body_bytes);
    http.set_read_timeout(cfg.read_timeout_s, 0);
    http.set_write_timeout(cfg.read_timeout_s, 0);
    const int threads = cfg.http_threads;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (cfg.api_key.empty() || req.path == "/health" || req.path == "/metrics")
        return httplib::Server::HandlerResponse::Unhandled;
      const std::string auth = req.get_header_value("Authorization");
      const std::string prefix = "Bearer ";
      if (auth.rfind(prefix, 0) == 0 && same_secret(auth.substr(prefix.size()), cfg.api_key))
        return httplib::Server::HandlerResponse::Unhandled;
      send_error(res, ApiError(401, "missing or wrong API key (send Authorization: Bearer <key>)", "",
                               "authentication_error"));
      metrics.request_done(401);
      return httplib::Server::HandlerResponse::Handled;
    });
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // a handler already answered
      if (res.status == 404) send_error(res, ApiError(404, "no route " + req.method + " " + req.path));
      else if (res.status == 413) send_error(res, ApiError(413, "the request body is too large"));
      else if (res.status >= 400) send_error(res, ApiError(res.status, "bad request"));
    });

    http.Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("OK", "text/plain"); });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.render(engine.stats().scheduler, cfg.served_model_name), "text/plain; version=0.0.4");
    });
    http.Get("/v1/models", guarded([this](const httplib::Request&, httplib::Response& res) {
      const json m = {{"id", cfg.served_model_name}, {"object", "model"}, {"created", static_cast<int64_t>(std::time(nullptr))},
                      {"owned_by", "dsinfer"}, {"max_model_len", cfg.max_model_len}};
      send_json(res, 200, {{"object", "list"}, {"data", json::array({m})}});
    }));
    http.Post("/v1/chat/completions", guarded([this](const httplib::Request& req, httplib::Response& res) {
      ChatRequest r = parse_chat_request(req.body);
      check_model(r.model);
      auto job = std::make_shared<Job>();
      job->chat = true;
      job->id = random_id("chatcmpl-");
      job->model = cfg.served_model_name;
      job->created = static_cast<int64_t>(std::time(nullptr));
      std::string rendered;
      const bool tools = !r.tools_json.empty() && r.tool_choice != ToolChoice::None;
      job->prompt = encode_messages(r.messages, true, &rendered, tools ? r.tools_json : "");
      if (tools) job->tools = tok.chat_format() == ChatFormat::KimiK2 ? ToolCallFormat::KimiK2 : ToolCallFormat::DeepSeekV3;
      job->gen = std::move(r.gen);
      const std::string think = "<think>\n";  // the R1 template opens the reasoning itself
      const bool thinking = rendered.size() >= think.size() &&
                            rendered.compare(rendered.size() - think.size(), think.size(), think) == 0;
      if (cfg.reasoning_parser && tok.chat_format() == ChatFormat::DeepSeekR1) job->reasoning = thinking;
      if (tools && (r.tool_choice == ToolChoice::Required || r.tool_choice == ToolChoice::Named)) {
        // Force a call: the answer starts with the call's opening in the
        // model's own format (with the function's name when one is named);
        // a template-opened reasoning is closed first.
        job->forced = (thinking ? "</think>\n\n" : "") +
                      forced_call_prefix(*job->tools, r.tool_choice == ToolChoice::Named ? r.tool_name : "");
        const std::vector<int32_t> ids = encode(job->forced, "tool_choice");
        job->prompt.insert(job->prompt.end(), ids.begin(), ids.end());
      }
      run_job(job, res);
    }));
    http.Post("/v1/completions", guarded([this](const httplib::Request& req, httplib::Response& res) {
      CompletionRequest r = parse_completion_request(req.body);
      check_model(r.model);
      auto job = std::make_shared<Job>();
      job->chat = false;
      job->id = random_id("cmpl-");
      job->model = cfg.served_model_name;
      job->created = static_cast<int64_t>(std::time(nullptr));
      job->prompt = r.has_ids ? r.prompt_ids : encode(r.prompt, "prompt");
      if (job->prompt.empty()) throw ApiError(400, "'prompt' encodes to no tokens", "prompt");
      job->gen = std::move(r.gen);
      run_job(job, res);
    }));
    http.Post("/tokenize", guarded([this](const httplib::Request& req, httplib::Response& res) {
      const json j = parse_body(req.body);
      std::vector<int32_t> ids;
      if (j.contains("messages")) {
        std::string rendered;
        ids = encode_messages(tokenize_messages(j), j.value("add_generation_prompt", true), &rendered);
      } else if (j.contains("prompt") && j["prompt"].is_string()) {
        ids = encode(j["prompt"].get<std::string>(), "prompt");
      } else {
        throw ApiError(400, "give 'prompt' (a string) or 'messages'", "prompt");
      }
      send_json(res, 200, {{"tokens", ids}, {"count", ids.size()}, {"max_model_len", cfg.max_model_len}});
    }));
    http.Post("/detokenize", guarded([this](const httplib::Request& req, httplib::Response& res) {
      const json j = parse_body(req.body);
      if (!j.contains("tokens") || !j["tokens"].is_array()) throw ApiError(400, "'tokens' must be an array of ids", "tokens");
      std::vector<int32_t> ids;
      for (const auto& t : j["tokens"]) {
        if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= tok.vocab_size())
          throw ApiError(400, "'tokens' must hold ids in [0, " + std::to_string(tok.vocab_size()) + ")", "tokens");
        ids.push_back(t.get<int32_t>());
      }
      send_json(res, 200, {{"prompt", tok.decode(ids)}});
    }));
    // The right path with the wrong method: 405, not 404.
    auto not_allowed = [this](const char* allowed) {
      return [this, allowed](const httplib::Request& req, httplib::Response& res) {
        res.set_header("Allow", allowed);
        send_error(res, ApiError(405, "method " + req.method + " is not allowed on " + req.path + " (use " + allowed + ")"));
        metrics.request_done(405);
      };
    };
    for (const char* p : {"/v1/chat/completions", "/v1/completions", "/tokenize", "/detokenize"}) {
      http.Get(p, not_allowed("POST"));
      http.Put(p, not_allowed("POST"));
      http.Delete(p, not_allowed("POST"));
    }
    for (const char* p : {"/v1/models", "/health", "/metrics"}) {
      http.Post(p, not_allowed("GET"));
      http.Put(p, not_allowed("GET"));
      http.Delete(p, not_allowed("GET"));
    }
  }
};

OpenAiServer::OpenAiServer(const ServerConfig& config, const Tokenizer& tokenizer, const ModelConfig& model,
                           EngineService& engine)
    : impl_(std::make_unique<Impl>(config, tokenizer, model, engine)) {}

OpenAiServer::~OpenAiServer() = default;

int OpenAiServer::bind() {
  const ServerConfig& c = impl_->cfg;
  if (c.port == 0) {
    port_ = impl_->http.bind_to_any_port(c.host);
  } else {
    port_ = impl_->http.bind_to_port(c.host, c.port) ? c.port : -1;
  }
  if (port_ <= 0)
    throw Error("serve: cannot listen on " + c.host + ":" + std::to_string(c.port) + " (port in use?)");
  // Debian's cpp-httplib is a compiled library that listens with a backlog
  // of 5: a burst of clients connecting at once overflows it and the kernel
  // resets some of them. Listening again on the bound socket raises it.
  if (impl_->listen_socket >= 0) ::listen(impl_->listen_socket, kListenBacklog);
  return port_;
}

bool OpenAiServer::serve() { return impl_->http.listen_after_bind(); }

void OpenAiServer::stop() { impl_->http.stop(); }

}  // namespace dsinfer::server
