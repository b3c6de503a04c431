#include "kernels/cpu/pack_budget.h"

#include <cstdlib>

#include "io/available_memory.h"

namespace dsinfer::cpu {

bool PackBudget::take(uint64_t bytes) {
  uint64_t left = left_.load();
  while (left >= bytes)
    if (left_.compare_exchange_weak(left, left - bytes)) return true;
  return false;
}

PackBudget& process_pack_budget() {
  static PackBudget budget([] {
    if (const char* gb = std::getenv("DSINFER_PACK_BUDGET_GB")) {
      const double v = std::atof(gb);
      return v > 0 ? static_cast<uint64_t>(v * (1ull << 30)) : uint64_t{0};
    }
    return available_memory_bytes() / 2;
  }());
  return budget;
}

}  // namespace dsinfer::cpu
