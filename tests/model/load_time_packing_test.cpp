// Load-time packing (Ops::pack_weight) as the model asks for it: every
// linear the backend's panels apply to, the lm_head included, but never
// kv_b_proj (read in place by the absorbed decode); nothing when several
// ranks share the machine (they share the mapped checkpoint's page cache).
#include <gtest/gtest.h>

#include <cstdlib>

#include "kernels/cpu/cpu_backend.h"
#include "kernels/cpu/load_panels.h"
#include "model/deepseek_model.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {

TEST(LoadTimePacking, PacksWhatThePanelsTakeAndNothingWhenRanksShareTheMachine) {
  const std::string dir = test::data_path("deepseek-r1-tiny");
  ::unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  ::unsetenv("MPI_LOCALNRANKS");
  {
    const auto model = DeepseekModel::load(dir, cpu::make_cpu_backend());
    const ModelWeights& w = model->weights();
    EXPECT_EQ(w.lm_head.packed != nullptr, cpu::load_panels_apply(w.lm_head));
    const AttentionWeights& a = w.layers.at(0).attn;
    EXPECT_EQ(a.q_b_proj.packed != nullptr, cpu::load_panels_apply(a.q_b_proj));
    EXPECT_EQ(a.o_proj.packed != nullptr, cpu::load_panels_apply(a.o_proj));
    EXPECT_EQ(a.kv_b_proj.packed, nullptr) << "kv_b_proj is read in place";
  }
  ::setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2", 1);
  const auto shared = DeepseekModel::load(dir, cpu::make_cpu_backend());
  ::unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  EXPECT_EQ(shared->weights().lm_head.packed, nullptr);
  EXPECT_EQ(shared->weights().layers.at(0).attn.q_b_proj.packed, nullptr);
}

}  // namespace
}  // namespace dsinfer
