#pragma once
// Loads a model directory onto the backend this build runs on (the CPU
// backend today; a device backend later chooses here, not in the model).
#include <memory>
#include <optional>
#include <string>

#include "model/deepseek_model.h"

namespace dsinfer {

// With `parallel`: this rank's part of the model (see DeepseekModel::load).
std::unique_ptr<DeepseekModel> load_model(const std::string& model_dir,
                                          std::optional<ComputePrecision> precision = std::nullopt,
                                          std::shared_ptr<ParallelContext> parallel = nullptr);

}  // namespace dsinfer
