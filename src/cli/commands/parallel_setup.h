#pragma once
// A command's place in a parallel job (`mpirun -np N dsinfer ...`): the
// sizes from flags or the YAML, checked against the MPI world, and the
// groups. Errors every rank sees alike are agreed on, so rank 0 prints one
// message and every rank exits 2.
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "dist/collective_error.h"
#include "dist/parallel_plan.h"
#include "dist/process_world.h"

namespace dsinfer::cli {

struct ParallelFlags {
  int64_t attn_tp = 1, moe_tp = 1, dense_tp = 1, embed_tp = 1, lmhead_tp = 1;
};
void add_parallel_flags(CLI::App* cmd, ParallelFlags& f);

// Runs fn on every rank; an error on any rank becomes the same AgreedError on all.
inline void agreed(const std::function<void()>& fn) { agree_on_errors(process_world(), fn); }

// Validates the sizes against the world (agreed) and builds the groups
// (collective). Null for a world of one.
std::shared_ptr<ParallelContext> open_parallel(const ParallelSizes& sizes, const std::string& where, bool flag_names);
std::shared_ptr<ParallelContext> open_parallel(const ParallelFlags& f);

inline bool is_root() { return process_world().rank() == 0; }

}  // namespace dsinfer::cli
