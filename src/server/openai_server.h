#pragma once
// The OpenAI-compatible HTTP front end (cpp-httplib): /v1/chat/completions,
// /v1/completions (JSON or SSE streams), /v1/models, /health, /metrics,
// /tokenize, /detokenize. Requests go to the EngineService; every bad
// input is an OpenAI-style error object with a 4xx status.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "io/model_config.h"
#include "server/engine_service.h"
#include "server/metrics.h"
#include "tokenizer/tokenizer.h"

namespace httplib {
class Server;
}

namespace dsinfer::server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string served_model_name;
  std::string api_key;              // empty: no authentication
  int64_t max_model_len = 4096;     // prompt + completion tokens
  bool reasoning_parser = true;     // split <think> of R1-style templates
  size_t max_body_bytes = 32u << 20;
  int http_threads = 512;           // concurrent connections served
  int read_timeout_s = 30;          // a slow client cannot hold a worker
};

class OpenAiServer {
 public:
  OpenAiServer(const ServerConfig& config, const Tokenizer& tokenizer, const ModelConfig& model,
               EngineService& engine);
  ~OpenAiServer();
  // Binds (port 0: any free port); throws Error when it cannot.
  int bind();
  // Serves until stop(); returns false on a socket failure.
  bool serve();
  void stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace dsinfer::server
