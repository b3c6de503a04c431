#pragma once
// Writes a random-weight checkpoint of any DeepSeek-V3-family config in the
// exact FP8 release layout (config.json, sharded model-0000X-of-0000Y
// .safetensors, model.safetensors.index.json): FP8 e4m3 Linear weights with
// float32 weight_scale_inv per 128x128 block, BF16 embeddings/norms/router,
// F32 router bias; the tensors are those of io/checkpoint_schema.h, in its
// release order. Deterministic for a seed, streamed tensor by tensor, so
// real-size layer shapes can be generated without holding them in memory.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace dsinfer {

// Changes whenever the bytes written for a (config, seed) change, so a cache
// of generated checkpoints never serves one written by another version.
// 2: tensors enumerated by the checkpoint schema (release order, MTP embed_tokens).
inline constexpr int kSyntheticCheckpointVersion = 2;

struct SyntheticCheckpointOptions {
  uint64_t seed = 0;
  int64_t shards = 1;
  bool include_mtp = true;  // write num_nextn_predict_layers MTP layers too
};

// `config` must be a complete config.json object (quantization_config is set
// to the FP8 block scheme). Writes into `dir`, which must exist.
void write_synthetic_checkpoint(const std::string& dir, nlohmann::json config,
                                const SyntheticCheckpointOptions& options = {});

// Bytes of tensor data write_synthetic_checkpoint would write for `config`.
uint64_t synthetic_checkpoint_bytes(const nlohmann::json& config, bool include_mtp = true);

}  // namespace dsinfer
