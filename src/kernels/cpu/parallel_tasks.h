#pragma once
// Runs independent tasks (one per sequence: sampling its next token) on the
// worker team. A task's exception is caught on its thread and the first one
// (in task order) is rethrown on the caller's, after every task has run.
#include <cstdint>
#include <functional>

namespace dsinfer::cpu {

void run_parallel_tasks(int64_t n, const std::function<void(int64_t)>& task);

}  // namespace dsinfer::cpu
