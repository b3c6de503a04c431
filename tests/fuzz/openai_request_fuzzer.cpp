// libFuzzer target: any bytes as the body of /v1/chat/completions and
// /v1/completions must parse or fail with an ApiError, never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/openai_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    dsinfer::server::parse_chat_request(body);
  } catch (const dsinfer::server::ApiError&) {
  }
  try {
    dsinfer::server::parse_completion_request(body);
  } catch (const dsinfer::server::ApiError&) {
  }
  return 0;
}
