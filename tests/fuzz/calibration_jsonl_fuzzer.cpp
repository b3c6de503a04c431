// libFuzzer target: any bytes as a C8 calibration JSONL file (convert
// --calibration_data) must load or fail with Error naming the file and
// line, never crash (ids out of range, non-integers, "text" records without
// a tokenizer, huge or empty lines).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "convert/calibration_set.h"
#include "io/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The reader takes a path (it refuses FIFOs and devices): one temp file per process.
  static const std::string path = "/tmp/dsinfer_fuzz_calibration_" + std::to_string(getpid()) + ".jsonl";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    dsinfer::convert::read_calibration_jsonl(path, 129280, nullptr);
  } catch (const dsinfer::Error&) {
  }
  return 0;
}
