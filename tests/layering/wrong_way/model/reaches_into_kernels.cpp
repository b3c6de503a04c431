// Fixture of the include_layering_rejects test: the model graph must not
// reach into a backend's kernels or the runtime above it.
#include "kernels/cpu/cpu_ops.h"
#include "model/deepseek_model.h"
#include "runtime/engine.h"
