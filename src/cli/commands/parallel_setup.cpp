#include "cli/commands/parallel_setup.h"

namespace dsinfer::cli {

void add_parallel_flags(CLI::App* cmd, ParallelFlags& f) {
  const std::string world = " (the world size is mpirun's -np)";
  cmd->add_option("--attn-tp-size", f.attn_tp,
                  "Attention tensor parallel: heads split over this many ranks; attention DP = world / this" + world)
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--moe-tp-size", f.moe_tp,
                  "MoE tensor parallel (every expert's intermediate dimension split); 1: expert parallel over "
                  "world ranks")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--dense-tp-size", f.dense_tp, "Dense-layer (first_k_dense_replace) MLP tensor parallel")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--embed-tp-size", f.embed_tp, "Vocabulary-parallel embedding over this many ranks")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--lmhead-tp-size", f.lmhead_tp, "Vocabulary-parallel lm_head (and MTP shared_head)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

std::shared_ptr<ParallelContext> open_parallel(const ParallelSizes& sizes, const std::string& where, bool flags) {
  Communicator& world = process_world();
  agreed([&] {
    if (sizes.world != world.size())
      throw Error(where + (flags ? "world size" : "world_size") + " " + std::to_string(sizes.world) +
                  " differs from the number of MPI ranks " + std::to_string(world.size()) +
                  (world.size() == 1 ? " (start it with mpirun -np " + std::to_string(sizes.world) + ")" : ""));
    sizes.validate(where, flags);
  });
  if (world.size() == 1) return nullptr;
  return std::make_shared<ParallelContext>(world, sizes);
}

std::shared_ptr<ParallelContext> open_parallel(const ParallelFlags& f) {
  ParallelSizes s;
  s.world = process_world().size();
  s.attn_tp = f.attn_tp;
  s.moe_tp = f.moe_tp;
  s.dense_tp = f.dense_tp;
  s.embed_tp = f.embed_tp;
  s.lmhead_tp = f.lmhead_tp;
  return open_parallel(s, "", true);
}

}  // namespace dsinfer::cli
