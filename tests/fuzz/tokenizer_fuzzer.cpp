// libFuzzer target for both tokenizers and the chat templates: the first
// byte picks the case, the rest is the input. Encode takes arbitrary bytes
// (invalid UTF-8 must be an Error), decode arbitrary ids (out-of-range ids
// an Error), the renderer arbitrary message JSON (with tools). Never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "io/error.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace {

// The real tokenizer files (tests/fuzz/run_fuzz.sh sets the variables).
std::string dir_from(const char* variable) {
  const char* d = std::getenv(variable);
  if (!d) {
    std::fprintf(stderr, "%s is not set\n", variable);
    std::abort();
  }
  return d;
}

const dsinfer::Tokenizer& tokenizer(int which) {
  static const auto r1 = dsinfer::load_tokenizer(dir_from("DSINFER_FUZZ_R1_TOKENIZER"));
  static const auto k2 = dsinfer::load_tokenizer(dir_from("DSINFER_FUZZ_K2_TOKENIZER"));
  return which == 0 ? *r1 : *k2;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int mode = data[0] % 6;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (mode) {
      case 0:
      case 1:
        tokenizer(mode).encode(rest);
        break;
      case 2:
      case 3: {
        std::vector<int32_t> ids(rest.size() / 4);
        if (!ids.empty()) std::memcpy(ids.data(), rest.data(), ids.size() * 4);
        tokenizer(mode - 2).decode(ids);
        break;
      }
      default: {
        const auto messages = dsinfer::parse_chat_messages(rest);
        for (auto format : {dsinfer::ChatFormat::DeepSeekV3, dsinfer::ChatFormat::DeepSeekR1, dsinfer::ChatFormat::KimiK2})
          dsinfer::render_chat(format, messages, mode == 5);
        break;
      }
    }
  } catch (const dsinfer::Error&) {
  }
  return 0;
}
