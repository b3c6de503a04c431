#pragma once
// NumPy .npy v1.0 writer for float32 C-order arrays ('<f4').
#include <cstdint>
#include <string>
#include <vector>

namespace dsinfer {

// Written as write_output_file does (atomic replace, never over an input or a
// non-regular file); `what` names the flag in messages.
void write_npy_f32(const std::string& path, const std::vector<int64_t>& shape, const float* data,
                   const std::string& what = "--out", const std::vector<std::string>& inputs = {});

}  // namespace dsinfer
