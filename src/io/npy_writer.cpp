#include "io/npy_writer.h"

#include <fstream>

#include "io/error.h"
#include "io/output_file.h"

namespace dsinfer {

void write_npy_f32(const std::string& path, const std::vector<int64_t>& shape, const float* data,
                   const std::string& what, const std::vector<std::string>& inputs) {
  std::string dims;
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dims += (i ? ", " : "") + std::to_string(shape[i]);
    n *= shape[i];
  }
  if (shape.size() == 1) dims += ",";  // Python's 1-tuple
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // magic(6) + version(2) + header_len(2) + header + '\n' padded to 64 bytes.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string bytes = "\x93NUMPY\x01\x00";
  bytes.resize(8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  bytes.append(reinterpret_cast<const char*>(&len), 2);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n) * sizeof(float));
  write_output_file(path, bytes, what, inputs);
}

}  // namespace dsinfer
