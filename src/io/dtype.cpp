#include "io/dtype.h"

#include <array>
#include <utility>

namespace dsinfer {
namespace {
constexpr std::array<std::pair<std::string_view, DType>, 7> kNames{{
    {"F8_E4M3", DType::F8_E4M3},
    {"BF16", DType::BF16},
    {"F16", DType::F16},
    {"F32", DType::F32},
    {"I8", DType::I8},
    {"I32", DType::I32},
    {"I64", DType::I64},
}};
}  // namespace

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F8_E4M3:
    case DType::I8:
      return 1;
    case DType::BF16:
    case DType::F16:
      return 2;
    case DType::F32:
    case DType::I32:
      return 4;
    case DType::I64:
      return 8;
  }
  return 0;
}

std::string_view dtype_name(DType t) {
  for (const auto& [name, dt] : kNames)
    if (dt == t) return name;
  return "?";
}

std::optional<DType> parse_dtype(std::string_view name) {
  for (const auto& [n, dt] : kNames)
    if (n == name) return dt;
  return std::nullopt;
}

}  // namespace dsinfer
