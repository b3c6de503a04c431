// libFuzzer target: any bytes as a LongBench JSONL file (and as the default
// dataset's JSON) must load or fail with Error, never crash.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "io/error.h"
#include "runtime/prompt_dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = "/tmp/dsinfer-fuzz-jsonl-" + std::to_string(::getpid());
  static const bool made = std::filesystem::create_directories(dir) || true;
  (void)made;
  for (const char* name : {"/a.jsonl", "/default.json"}) {
    FILE* f = std::fopen((dir + name).c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  try {
    dsinfer::load_prompt_texts({"LongBench", dir, {}, 3, 16});
  } catch (const dsinfer::Error&) {
  }
  try {
    dsinfer::load_prompt_texts({"default", dir + "/default.json", {}, 2, 16});
  } catch (const dsinfer::Error&) {
  }
  return 0;
}
