#include "io/synthetic_checkpoint.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "io/checkpoint_schema.h"
#include "io/error.h"
#include "io/model_config.h"
#include "io/safetensors_writer.h"
#include "io/numeric_formats.h"

namespace dsinfer {
namespace {

// splitmix64: tiny, portable, reproducible across standard libraries.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  float uniform() { return static_cast<float>(next() >> 40) / static_cast<float>(1ull << 24); }  // [0, 1)
  float symmetric() { return 2.f * uniform() - 1.f; }                                            // [-1, 1)
};

// Writes the bytes of one stored tensor, values scaled so every Linear gives
// unit-variance outputs on unit-variance inputs.
void emit(const StoredTensor& t, Rng& rng, SafetensorsWriter& w) {
  const size_t n = static_cast<size_t>(t.numel());
  if (t.linear) {
    const float amp = std::sqrt(3.0f / static_cast<float>(t.linear->cols));
    if (t.block_scale) {
      std::vector<float> scales(n);
      for (auto& s : scales) s = amp * (0.5f + rng.uniform()) / 448.f;  // per-block scale varies
      w.write_next(scales.data(), n * 4);
    } else if (t.dtype == DType::F8_E4M3) {
      std::vector<uint8_t> q(n);
      for (auto& x : q) x = float_to_fp8_e4m3(448.f * rng.symmetric());
      w.write_next(q.data(), n);
    } else {
      std::vector<uint16_t> v(n);
      for (auto& x : v) x = float_to_bf16(amp * rng.symmetric());
      w.write_next(v.data(), n * 2);
    }
    return;
  }
  switch (t.vector->role) {
    case VectorRole::Norm: {
      std::vector<uint16_t> v(n);
      for (auto& x : v) x = float_to_bf16(1.0f + 0.2f * rng.symmetric());
      w.write_next(v.data(), n * 2);
      break;
    }
    case VectorRole::RouterBias: {
      std::vector<float> v(n);
      for (auto& x : v) x = 0.05f * rng.symmetric();
      w.write_next(v.data(), n * 4);
      break;
    }
    case VectorRole::CkvScale: {
      std::vector<float> v(n);
      for (auto& x : v) x = (0.5f + rng.uniform()) / 127.f;  // positive, as the loader requires
      w.write_next(v.data(), n * 4);
      break;
    }
  }
}

std::vector<StoredTensor> stored_tensors(const CheckpointSchema& schema) {
  std::vector<StoredTensor> out;
  for_each_tensor(schema, [&](const StoredTensor& t) { out.push_back(t); });
  return out;
}

nlohmann::json with_fp8_quantization(nlohmann::json config) {
  config["quantization_config"] = {{"activation_scheme", "dynamic"},
                                   {"fmt", "e4m3"},
                                   {"quant_method", "fp8"},
                                   {"weight_block_size", {128, 128}}};
  return config;
}

}  // namespace

uint64_t synthetic_checkpoint_bytes(const nlohmann::json& config, bool include_mtp) {
  const ModelConfig c = parse_model_config(with_fp8_quantization(config).dump(), "config");
  uint64_t total = 0;
  for_each_tensor(checkpoint_schema(c, {.include_mtp = include_mtp}),
                  [&](const StoredTensor& t) { total += t.nbytes(); });
  return total;
}

void write_synthetic_checkpoint(const std::string& dir, nlohmann::json config, const SyntheticCheckpointOptions& o) {
  namespace fs = std::filesystem;
  config = with_fp8_quantization(std::move(config));
  const std::string cfg_path = (fs::path(dir) / "config.json").string();
  const ModelConfig c = parse_model_config(config.dump(), cfg_path);
  const CheckpointSchema schema = checkpoint_schema(c, {.include_mtp = o.include_mtp});
  const std::vector<StoredTensor> tensors = stored_tensors(schema);
  // Shards split between units (a tensor with the block scales after it), so
  // an FP8 weight and its scales always share a file.
  std::vector<size_t> unit_begin;
  for (size_t i = 0; i < tensors.size(); ++i)
    if (!tensors[i].block_scale) unit_begin.push_back(i);
  const size_t units = unit_begin.size();
  unit_begin.push_back(tensors.size());
  const int64_t shards = std::max<int64_t>(1, std::min<int64_t>(o.shards, static_cast<int64_t>(units)));

  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();  // in file order, as the release lists it
  size_t total = 0;
  Rng rng{o.seed * 0x2545f4914f6cdd1dull + 1};
  for (int64_t s = 0; s < shards; ++s) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05lld-of-%05lld.safetensors", static_cast<long long>(s + 1),
                  static_cast<long long>(shards));
    // Balanced: every shard holds at least one unit.
    const size_t n = static_cast<size_t>(shards), k = static_cast<size_t>(s);
    const size_t begin = unit_begin[units * k / n], end = unit_begin[units * (k + 1) / n];
    std::vector<TensorSpec> specs;
    for (size_t i = begin; i < end; ++i) {
      weight_map[tensors[i].name] = name;
      specs.push_back({tensors[i].name, tensors[i].dtype, tensors[i].shape});
      total += tensors[i].nbytes();
    }
    SafetensorsWriter w((fs::path(dir) / name).string(), specs, {{"format", "pt"}});
    for (size_t i = begin; i < end; ++i) emit(tensors[i], rng, w);
    w.finish();
  }
  nlohmann::ordered_json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  std::ofstream(fs::path(dir) / "model.safetensors.index.json") << index.dump(2) << "\n";
  std::ofstream cfg(cfg_path);
  cfg << config.dump(2) << "\n";
  if (!cfg) throw Error(cfg_path + ": write failed");
}

}  // namespace dsinfer
