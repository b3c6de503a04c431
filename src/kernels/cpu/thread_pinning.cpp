#include "kernels/cpu/thread_pinning.h"

#include <omp.h>
#include <pthread.h>
#include <sched.h>

#include <vector>

namespace dsinfer::cpu {

std::string pin_worker_threads() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return "affinity unavailable";
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed)) cpus.push_back(c);
  if (cpus.empty()) return "affinity unavailable";
  const int n = omp_get_max_threads();
  std::vector<int> bound(static_cast<size_t>(n), -1);
#pragma omp parallel num_threads(n)
  {
    const int i = omp_get_thread_num();
    const int cpu = cpus[static_cast<size_t>(i) % cpus.size()];
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0) bound[static_cast<size_t>(i)] = cpu;
  }
  std::string s = std::to_string(n) + " threads pinned to cpus";
  for (size_t i = 0; i < bound.size(); ++i) s += (i ? "," : " ") + std::to_string(bound[i]);
  return s;
}

int worker_threads() { return omp_get_max_threads(); }

}  // namespace dsinfer::cpu
