#include "convert/conversion_plan.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "io/error.h"

namespace dsinfer::convert {
namespace {

constexpr std::string_view kScaleInvSuffix = "_scale_inv";
constexpr std::string_view kWeightSuffix = ".weight";

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string module_of(const std::string& weight_name) {
  return weight_name.substr(0, weight_name.size() - kWeightSuffix.size());
}

// The weight_scale_inv of an FP8 weight, validated against the weight's shape.
const TensorView& scale_for(const Checkpoint& ckpt, const TensorView& w, const QuantConfig& quant) {
  const std::string sname = w.name + std::string(kScaleInvSuffix);
  if (!ckpt.has(sname))
    throw Error(w.file + ": FP8 tensor '" + w.name + "' has no scale tensor '" + sname + "' in " + ckpt.dir());
  const TensorView& s = ckpt.get(sname);
  if (s.dtype != DType::F32)
    throw Error(s.file + ": scale tensor '" + sname + "' must be F32, got " + std::string(dtype_name(s.dtype)));
  const std::vector<int64_t> expect = {(w.shape[0] + quant.block_rows - 1) / quant.block_rows,
                                       (w.shape[1] + quant.block_cols - 1) / quant.block_cols};
  if (s.shape != expect)
    throw Error(s.file + ": scale tensor '" + sname + "' has shape " + shape_string(s.shape) + " but weight '" +
                w.name + "' " + shape_string(w.shape) + " with " + std::to_string(quant.block_rows) + "x" +
                std::to_string(quant.block_cols) + " blocks needs " + shape_string(expect));
  return s;
}

PlannedTensor plan_fp8_weight(const Checkpoint& ckpt, const TensorView& w, const QuantConfig& quant, QuantMode mode) {
  if (!ends_with(w.name, kWeightSuffix) || w.shape.size() != 2)
    throw Error(w.file + ": FP8 tensor '" + w.name + "' must be a 2-D '<module>.weight', got shape " +
                shape_string(w.shape));
  PlannedTensor p;
  p.input = &w;
  p.scale_inv = &scale_for(ckpt, w, quant);
  const bool to_int8 = mode != QuantMode::Bfloat16 && !kept_in_bf16(module_of(w.name));
  if (to_int8) {
    p.action = TensorAction::QuantInt8;
    p.outputs = {{w.name, DType::I8, w.shape}, {module_of(w.name) + ".weight_scale", DType::F32, {w.shape[0], 1}}};
  } else {
    p.action = TensorAction::DequantBf16;
    p.outputs = {{w.name, DType::BF16, w.shape}};
  }
  return p;
}

}  // namespace

size_t PlannedTensor::input_bytes() const { return input->nbytes + (scale_inv ? scale_inv->nbytes : 0); }

bool kept_in_bf16(const std::string& module) {
  return module == "lm_head" || ends_with(module, ".self_attn.kv_b_proj") || ends_with(module, ".mlp.gate") ||
         ends_with(module, ".eh_proj") || ends_with(module, ".shared_head.head");
}

ConversionPlan plan_conversion(const Checkpoint& input, const QuantConfig& quant, QuantMode mode) {
  // Group tensors by shard, in on-disk order.
  std::map<std::string, std::vector<const TensorView*>> by_file;
  size_t fp8_weights = 0;
  for (const auto& name : input.names()) {
    const TensorView& t = input.get(name);
    if (ends_with(name, kScaleInvSuffix)) {
      const std::string wname = name.substr(0, name.size() - kScaleInvSuffix.size());
      if (!input.has(wname) || input.get(wname).dtype != DType::F8_E4M3)
        throw Error(t.file + ": scale tensor '" + name + "' has no F8_E4M3 weight '" + wname + "'");
      continue;  // consumed with its weight
    }
    if (t.dtype == DType::F8_E4M3) ++fp8_weights;
    by_file[t.file].push_back(&t);
  }
  if (fp8_weights == 0)
    throw Error(input.dir() + ": not an FP8 release checkpoint (no F8_E4M3 weights with *_scale_inv tensors)");

  ConversionPlan plan;
  for (auto& [file, tensors] : by_file) {
    std::sort(tensors.begin(), tensors.end(), [](const TensorView* a, const TensorView* b) { return a->data < b->data; });
    ShardPlan shard;
    shard.file_name = std::filesystem::path(file).filename().string();
    for (const TensorView* t : tensors) {
      PlannedTensor p;
      if (t->dtype == DType::F8_E4M3) {
        p = plan_fp8_weight(input, *t, quant, mode);
      } else {
        p.input = t;
        p.outputs = {{t->name, t->dtype, t->shape}};
      }
      shard.input_bytes += p.input_bytes();
      shard.tensors.push_back(std::move(p));
    }
    plan.input_bytes += shard.input_bytes;
    plan.shards.push_back(std::move(shard));
  }
  if (mode != QuantMode::Bfloat16)
    for (const auto& name : input.names())
      if (ends_with(name, kWeightSuffix) && kept_in_bf16(module_of(name))) plan.ignored_modules.push_back(module_of(name));
  return plan;
}

}  // namespace dsinfer::convert
