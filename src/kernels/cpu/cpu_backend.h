#pragma once
// The CPU backend: backend/ops.h on the AVX-512 / scalar kernels of this
// directory (picked at run time from cpu_features), OpenMP across cores.
#include <memory>

#include "backend/ops.h"

namespace dsinfer::cpu {

// A backend instance owns its scratch memory (reused across layers and
// forwards); give each concurrently running model its own.
std::shared_ptr<Ops> make_cpu_backend();

}  // namespace dsinfer::cpu
