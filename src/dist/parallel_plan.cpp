#include "dist/parallel_plan.h"

#include <initializer_list>
#include <tuple>
#include <utility>

#include "io/error.h"

namespace dsinfer {

void ParallelSizes::validate(const std::string& where, bool flags) const {
  auto key = [&](const char* yaml, const char* flag) {
    return where + (flags ? std::string(flag) : "parallel_config." + std::string(yaml));
  };
  for (auto [yaml, flag, v] : std::initializer_list<std::tuple<const char*, const char*, int64_t>>{
           {"attn_tp_size", "--attn-tp-size", attn_tp}, {"dense_tp_size", "--dense-tp-size", dense_tp},
           {"moe_tp_size", "--moe-tp-size", moe_tp}, {"embed_tp_size", "--embed-tp-size", embed_tp},
           {"lmhead_tp_size", "--lmhead-tp-size", lmhead_tp}})
    if (v < 1 || world % v != 0)
      throw Error(key(yaml, flag) + ": " + std::to_string(v) + " does not divide the world size " +
                  std::to_string(world));
  if (moe_ep > 0 && moe_ep != world / moe_tp)
    throw Error(key("moe_ep_size", "--moe-ep-size") + ": " + std::to_string(moe_ep) +
                " is not world_size / moe_tp_size = " + std::to_string(world / moe_tp));
  if (moe_tp > 1 && world / moe_tp > 1)
    throw Error(key("moe_tp_size", "--moe-tp-size") + ": " + std::to_string(moe_tp) +
                " with expert parallelism " + std::to_string(world / moe_tp) +
                " is not supported: MoE runs either expert parallel (moe_tp_size 1) or tensor parallel "
                "(moe_tp_size = world size)");
}

std::string ParallelSizes::describe() const {
  return "world " + std::to_string(world) + ": attention DP" + std::to_string(attn_dp()) + " x TP" +
         std::to_string(attn_tp) + ", MoE " +
         (moe_tp > 1 ? "TP" + std::to_string(moe_tp) : "EP" + std::to_string(expert_parallel())) + ", dense TP" +
         std::to_string(dense_tp) + ", embed TP" + std::to_string(embed_tp) + ", lm_head TP" +
         std::to_string(lmhead_tp);
}

ParallelContext::ParallelContext(Communicator& world, const ParallelSizes& sizes) : world_(world), sizes_(sizes) {
  if (world.size() != sizes.world)
    throw Error("parallel plan for " + std::to_string(sizes.world) + " ranks on a world of " +
                std::to_string(world.size()));
  const int r = world.rank();
  auto contiguous = [&](int64_t group) { return world.split(static_cast<int>(r / group), r); };
  attn_tp_ = contiguous(sizes.attn_tp);
  moe_tp_ = contiguous(sizes.moe_tp);
  moe_ep_ = world.split(static_cast<int>(r % sizes.moe_tp), r);  // strided by moe_tp_size
  dense_tp_ = contiguous(sizes.dense_tp);
  embed_tp_ = contiguous(sizes.embed_tp);
  lmhead_tp_ = contiguous(sizes.lmhead_tp);
}

CommCounters ParallelContext::counters() const {
  CommCounters c = world_.counters();
  for (const auto* g : {&attn_tp_, &moe_ep_, &moe_tp_, &dense_tp_, &embed_tp_, &lmhead_tp_}) c += (*g)->counters();
  return c;
}

void ParallelContext::reset_counters() {
  world_.reset_counters();
  for (auto* g : {&attn_tp_, &moe_ep_, &moe_tp_, &dense_tp_, &embed_tp_, &lmhead_tp_}) (*g)->reset_counters();
}

}  // namespace dsinfer
