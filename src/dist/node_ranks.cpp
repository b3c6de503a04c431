#include "dist/node_ranks.h"

#include <algorithm>
#include <cstdlib>

namespace dsinfer {

int64_t ranks_on_this_node() {
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"})
    if (const char* s = std::getenv(v)) return std::max(1, std::atoi(s));
  return 1;
}

}  // namespace dsinfer
