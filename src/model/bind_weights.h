#pragma once
// Builds ModelWeights by walking a CheckpointSchema: the one place that maps
// schema entries onto the graph's weight structs. Where the bytes come from
// (a mapped checkpoint, synthetic memory) is the caller's `WeightSource`.
#include <functional>
#include <vector>

#include "io/checkpoint_schema.h"
#include "model/model_weights.h"

namespace dsinfer {

struct WeightSource {
  std::function<LinearWeight(const LinearSpec&)> linear;
  std::function<std::vector<float>(const VectorSpec&)> vector;
};

// Decoder layers, final norm and head; the embedding when the schema lists
// it. MTP layers are not bound yet. Experts absent from the schema keep a
// default MlpWeights (data == nullptr); without schema.lm_head the head is
// the embedding (tied). ModelWeights::bytes is left to the caller.
ModelWeights bind_weights(const CheckpointSchema& schema, const WeightSource& source);

}  // namespace dsinfer
