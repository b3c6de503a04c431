#pragma once
// A rank's part of a Linear weight under tensor parallelism: a range of
// output rows (column-parallel layers, vocabulary shards) or of input
// columns (row-parallel layers). Row ranges are views into the mapped
// checkpoint whenever the format allows it; column ranges, and FP8 row
// ranges that do not start on a scale block, are copied once into `store`
// (FP8 tiles cut by the range become exact float32, value * scale).
#include <cstdint>
#include <vector>

#include "backend/linear_weight.h"

namespace dsinfer {

// Owns the copied slices; the buffers never move once added.
using WeightStore = std::vector<std::vector<uint8_t>>;

LinearWeight slice_rows(const LinearWeight& w, int64_t begin, int64_t end, WeightStore& store);
LinearWeight slice_cols(const LinearWeight& w, int64_t begin, int64_t end, WeightStore& store);

// The even split the recipe uses: part i of n of `total` items (the last
// parts shorter when n does not divide it; ceil-sized parts).
struct SliceRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
SliceRange even_part(int64_t total, int64_t parts, int64_t index);

}  // namespace dsinfer
