#include "backend/compute_precision.h"

#include "io/error.h"

namespace dsinfer {

std::optional<ComputePrecision> parse_compute_precision(const std::string& text, const std::string& what) {
  if (text == "fp32") return ComputePrecision::Float32;
  if (text == "bf16") return ComputePrecision::BF16;
  if (text == "auto") return std::nullopt;
  throw Error(what + ": unknown compute precision '" + text + "' (expected auto, fp32 or bf16)");
}

const char* compute_precision_name(ComputePrecision p) { return p == ComputePrecision::BF16 ? "bf16" : "fp32"; }

}  // namespace dsinfer
