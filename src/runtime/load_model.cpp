#include "runtime/load_model.h"

#include "kernels/cpu/cpu_backend.h"

namespace dsinfer {

std::unique_ptr<DeepseekModel> load_model(const std::string& model_dir, std::optional<ComputePrecision> precision,
                                          std::shared_ptr<ParallelContext> parallel) {
  return DeepseekModel::load(model_dir, cpu::make_cpu_backend(), precision, std::move(parallel));
}

}  // namespace dsinfer
