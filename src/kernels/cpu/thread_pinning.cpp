#include "kernels/cpu/thread_pinning.h"

#include <omp.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <vector>

#include "kernels/cpu/numa_topology.h"

namespace dsinfer::cpu {

std::string pin_worker_threads() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return "affinity unavailable";
  std::vector<int> allowed_cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &allowed)) allowed_cpus.push_back(c);
  if (allowed_cpus.empty()) return "affinity unavailable";
  const NumaTopology numa = read_numa_topology();
  const std::vector<int> cpus = spread_over_nodes(numa, allowed_cpus);
  const int n = omp_get_max_threads();
  std::vector<int> bound(static_cast<size_t>(n), -1);
  std::vector<char> interleaved(static_cast<size_t>(n), 0);
#pragma omp parallel num_threads(n)
  {
    const int i = omp_get_thread_num();
    interleaved[static_cast<size_t>(i)] = interleave_thread_memory(numa);
    const int cpu = cpus[static_cast<size_t>(i) % cpus.size()];
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) == 0) bound[static_cast<size_t>(i)] = cpu;
  }
  std::string s = std::to_string(n) + " threads pinned to cpus";
  for (size_t i = 0; i < bound.size(); ++i) s += (i ? "," : " ") + std::to_string(bound[i]);
  const size_t nodes = std::max<size_t>(1, numa.node_ids.size());
  s += " (" + std::to_string(nodes) + " NUMA node" + (nodes > 1 ? "s" : "");
  if (nodes > 1)
    s += std::all_of(interleaved.begin(), interleaved.end(), [](char c) { return c != 0; })
             ? ", threads alternate nodes, memory interleaved"
             : ", threads alternate nodes, memory interleaving refused";
  return s + ")";
}

int worker_threads() { return omp_get_max_threads(); }

}  // namespace dsinfer::cpu
