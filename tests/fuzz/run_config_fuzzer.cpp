// libFuzzer target: any bytes as a run YAML must parse or fail with Error,
// never crash (nesting, duplicate or non-scalar keys, invalid UTF-8, sizes).
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/error.h"
#include "io/run_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    dsinfer::parse_run_config(std::string(reinterpret_cast<const char*>(data), size), "run.yaml");
  } catch (const dsinfer::Error&) {
  }
  return 0;
}
