#pragma once
// Writes a safetensors file: header first (offsets known up front from the
// declared dtypes and shapes), then each tensor's bytes streamed in order,
// so a writer never needs the whole file in memory.
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "io/dtype.h"

namespace dsinfer {

struct TensorSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  size_t nbytes() const;
};

class SafetensorsWriter {
 public:
  // Writes the header of a file holding exactly `specs`, in that order.
  SafetensorsWriter(const std::string& path, std::vector<TensorSpec> specs,
                    const std::map<std::string, std::string>& metadata = {});
  // Appends the bytes of the next tensor; must follow the declared order.
  void write_next(const void* data, size_t nbytes);
  // Appends part of the current tensor (tensors may be streamed in pieces,
  // so a huge tensor never has to be resident at once).
  void write_part(const void* data, size_t nbytes);
  // Checks every tensor was written and flushes; throws on I/O failure.
  void finish();

 private:
  std::string path_;
  std::vector<TensorSpec> specs_;
  size_t next_ = 0;
  size_t written_in_current_ = 0;
  std::ofstream out_;
};

// Convenience for small files (tests, synthetic models).
struct OwnedTensor {
  TensorSpec spec;
  std::vector<uint8_t> bytes;
};
void write_safetensors(const std::string& path, const std::vector<OwnedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace dsinfer
