#include "convert/convert_options.h"

#include "io/error.h"

namespace dsinfer::convert {

QuantMode parse_quant_mode(const std::string& name) {
  if (name == "bfloat16") return QuantMode::Bfloat16;
  if (name == "w8a8c16") return QuantMode::W8A8C16;
  if (name == "w8a8c8") return QuantMode::W8A8C8;
  throw Error("--quant_mode: unknown mode '" + name + "' (expected bfloat16, w8a8c16 or w8a8c8)");
}

const char* quant_mode_name(QuantMode m) {
  switch (m) {
    case QuantMode::Bfloat16:
      return "bfloat16";
    case QuantMode::W8A8C16:
      return "w8a8c16";
    case QuantMode::W8A8C8:
      return "w8a8c8";
  }
  return "?";
}

}  // namespace dsinfer::convert
