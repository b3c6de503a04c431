#pragma once
// NumPy .npy v1.0 writer for float32 C-order arrays ('<f4').
#include <cstdint>
#include <string>
#include <vector>

namespace dsinfer {

void write_npy_f32(const std::string& path, const std::vector<int64_t>& shape, const float* data);

}  // namespace dsinfer
