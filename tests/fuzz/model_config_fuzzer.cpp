// libFuzzer target: any bytes as config.json must parse or fail with
// Error, never crash (deep nesting, duplicate keys, wrong types, ranges).
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/error.h"
#include "io/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    dsinfer::parse_model_config(std::string(reinterpret_cast<const char*>(data), size), "config.json");
  } catch (const dsinfer::Error&) {
  }
  return 0;
}
