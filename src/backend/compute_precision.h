#pragma once
// Precision of the arithmetic on activations. Float32: activations stay
// float32 and every product is exact float32 (what the FP8 golden references
// compute). BF16: where the weights are bf16 (linears) or the operands are
// activations (prefill attention scores and values), operands are rounded
// to bf16 and multiplied with vdpbf16ps into float32 sums, as bf16 engines do
// (twice the float32 rate). Decode-time GEMVs are memory-bound either way.
#include <cstdint>
#include <optional>
#include <string>

namespace dsinfer {

enum class ComputePrecision : uint8_t { Float32, BF16 };

// "fp32" | "bf16" | "auto" (nullopt: decided by the weights). Throws Error
// naming `what` on anything else.
std::optional<ComputePrecision> parse_compute_precision(const std::string& text, const std::string& what);
const char* compute_precision_name(ComputePrecision p);

}  // namespace dsinfer
