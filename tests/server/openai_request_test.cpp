// Parsing of OpenAI request bodies: defaults, content parts, and every bad
// field an ApiError 400 naming it.
#include <gtest/gtest.h>

#include "server/openai_request.h"

namespace dsinfer::server {
namespace {

int status_of(const std::string& body, bool chat = true) {
  try {
    if (chat) parse_chat_request(body);
    else parse_completion_request(body);
  } catch (const ApiError& e) {
    EXPECT_FALSE(std::string(e.what()).empty());
    return e.status();
  }
  return 200;
}

std::string param_of(const std::string& body) {
  try {
    parse_chat_request(body);
  } catch (const ApiError& e) {
    return e.param();
  }
  return "";
}

TEST(OpenAiRequest, ChatDefaultsAndContentParts) {
  const auto r = parse_chat_request(R"({"model": "m", "messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "user", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]}],
      "unknown_field": {"ignored": true}})");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "Hello there");
  EXPECT_FLOAT_EQ(r.gen.sampling.temperature, 1.0f);  // the OpenAI default
  EXPECT_EQ(r.gen.n, 1);
  EXPECT_FALSE(r.gen.max_tokens);
}

TEST(OpenAiRequest, SamplingFieldsAndStops) {
  const auto r = parse_chat_request(R"({"messages": [{"role": "user", "content": "x"}], "temperature": 0,
      "top_p": 0.5, "top_k": 20, "min_p": 0.1, "seed": 7, "presence_penalty": 0.5, "frequency_penalty": -0.5,
      "repetition_penalty": 1.1, "max_completion_tokens": 9, "max_tokens": 3, "stop": ["a", "bc"], "n": 2,
      "stream": true, "stream_options": {"include_usage": true}, "logprobs": true, "top_logprobs": 4})");
  EXPECT_EQ(*r.gen.max_tokens, 9);  // max_completion_tokens wins
  EXPECT_EQ(r.gen.sampling.top_k, 20);
  EXPECT_EQ(*r.gen.sampling.seed, 7u);
  EXPECT_EQ(r.gen.stop, (std::vector<std::string>{"a", "bc"}));
  EXPECT_TRUE(r.gen.stream && r.gen.include_usage && r.gen.sampling.logprobs);
  EXPECT_EQ(r.gen.sampling.top_logprobs, 4);
}

TEST(OpenAiRequest, BadBodiesAre400NamingTheField) {
  EXPECT_EQ(status_of("{not json"), 400);
  EXPECT_EQ(status_of("[1, 2]"), 400);
  EXPECT_EQ(param_of(R"({"messages": []})"), "messages");
  EXPECT_EQ(param_of(R"({"messages": "hi"})"), "messages");
  EXPECT_EQ(param_of(R"({"messages": [{"role": "wizard", "content": "x"}]})"), "messages[0].role");
  EXPECT_EQ(param_of(R"({"messages": [{"role": "user", "content": 5}]})"), "messages[0].content");
  EXPECT_EQ(param_of(R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})"), "temperature");
  EXPECT_EQ(param_of(R"({"messages": [{"role": "user", "content": "x"}], "temperature": 3})"), "temperature");
  EXPECT_EQ(param_of(R"({"messages": [{"role": "user", "content": "x"}], "top_p": 0})"), "top_p");
  EXPECT_EQ(param_of(R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0})"), "max_tokens");
  EXPECT_EQ(param_of(R"({"messages": [{"role": "user", "content": "x"}], "n": 0})"), "n");
  EXPECT_EQ(param_of(R"({"messages": [{"role": "user", "content": "x"}], "stop": [1]})"), "stop");
  EXPECT_EQ(param_of(R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 3})"), "top_logprobs");
  EXPECT_EQ(status_of(R"({"prompt": ""})", false), 400);
  EXPECT_EQ(status_of(R"({"prompt": [1, -2]})", false), 400);
  EXPECT_EQ(status_of(R"({"max_tokens": 3})", false), 400);
  EXPECT_EQ(status_of(R"({"prompt": [1, 2, 3]})", false), 200);
}

}  // namespace
}  // namespace dsinfer::server
