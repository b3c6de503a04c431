#pragma once
// How many bytes of weight copies in its own layout (load_panels.h) the
// CPU backend may still make in this process: half the memory available
// when the first weight is offered, or DSINFER_PACK_BUDGET_GB (0: none).
// Past it weights stay in place on the dot-form tiles, so a model larger
// than memory still runs from its mapping. Each copied weight's mapped
// pages go back to the OS (MappedFile::drop_resident_pages): one copy
// resident, not two; its bytes return to the budget when the copy is freed.
#include <atomic>
#include <cstdint>

namespace dsinfer::cpu {

class PackBudget {
 public:
  explicit PackBudget(uint64_t bytes) : left_(bytes) {}
  // Takes bytes if that many are left (then true), else takes nothing.
  bool take(uint64_t bytes);
  void give_back(uint64_t bytes) { left_ += bytes; }
  uint64_t left() const { return left_; }

 private:
  std::atomic<uint64_t> left_;
};

PackBudget& process_pack_budget();

}  // namespace dsinfer::cpu
