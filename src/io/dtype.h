#pragma once
// Element types found in safetensors checkpoints of this model family.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsinfer {

enum class DType : uint8_t { F8_E4M3, BF16, F16, F32, I8, I32, I64 };

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);
std::optional<DType> parse_dtype(std::string_view name);

}  // namespace dsinfer
