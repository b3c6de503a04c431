#pragma once
// Ranks of this job on this machine (mpirun's local size; 1 without it):
// they share its memory, and the page cache of a checkpoint they all map.
#include <cstdint>

namespace dsinfer {

int64_t ranks_on_this_node();

}  // namespace dsinfer
