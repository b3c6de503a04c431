// libFuzzer target: any bytes as a .safetensors file must load or fail with
// Error, never crash or read outside the file (header length, offsets,
// shapes, nesting, duplicate names).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "io/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/dsinfer-fuzz-" + std::to_string(::getpid()) + ".safetensors";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    dsinfer::SafetensorsFile file(path);
    uint64_t sum = 0;
    for (const auto& [name, t] : file.tensors())
      if (t.nbytes > 0) sum += t.data[0] + t.data[t.nbytes - 1];  // every range is inside the file
    if (sum == 0xffffffffffffffffULL) std::abort();
  } catch (const dsinfer::Error&) {
  }
  return 0;
}
