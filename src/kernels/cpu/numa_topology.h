#pragma once
// NUMA placement for the worker team. On a multi-socket (or NPS>1) machine
// each node has its own memory controllers; decode is bandwidth-bound, so the
// weights should be spread over every node's memory and every node's cores
// should read them. pin_worker_threads() uses this: threads alternate between
// nodes, and each thread's page allocations (weights faulted in from the
// mapped checkpoint, caches, activations) interleave over all nodes, as
// llama.cpp's --numa distribute does. One node: nothing changes.
#include <string>
#include <vector>

namespace dsinfer::cpu {

struct NumaTopology {
  std::vector<int> node_ids;                 // e.g. {0, 1}
  std::vector<std::vector<int>> node_cpus;   // CPUs of node_ids[i]
};

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; throws Error naming `where` on bad text.
std::vector<int> parse_cpu_list(const std::string& text, const std::string& where);

// Nodes under node_dir (node<N>/cpulist). No such directory (no NUMA support):
// one node holding every allowed CPU.
NumaTopology read_numa_topology(const std::string& node_dir = "/sys/devices/system/node");

// The allowed CPUs in the order threads take them: node by node round-robin
// (node0's first CPU, node1's first, node0's second, ...), so a team of any
// size is spread evenly over the nodes. CPUs in no node come last.
std::vector<int> spread_over_nodes(const NumaTopology& topology, const std::vector<int>& allowed);

// Makes the calling thread's future page allocations interleave over the
// nodes (set_mempolicy MPOL_INTERLEAVE). Returns false if the kernel refuses.
bool interleave_thread_memory(const NumaTopology& topology);

}  // namespace dsinfer::cpu
