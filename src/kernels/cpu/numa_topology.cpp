#include "kernels/cpu/numa_topology.h"

#include <linux/mempolicy.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "io/error.h"

namespace dsinfer::cpu {

namespace {

int parse_int(const std::string& s, const std::string& where) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0)
    throw Error(where + ": bad CPU list entry '" + s + "'");
  return v;
}

}  // namespace

std::vector<int> parse_cpu_list(const std::string& text, const std::string& where) {
  std::vector<int> cpus;
  std::string t = text;
  t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == '\n' || c == ' '; }), t.end());
  std::stringstream ss(t);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) continue;
    const auto dash = part.find('-');
    if (dash == std::string::npos) {
      cpus.push_back(parse_int(part, where));
      continue;
    }
    const int lo = parse_int(part.substr(0, dash), where), hi = parse_int(part.substr(dash + 1), where);
    if (hi < lo) throw Error(where + ": bad CPU range '" + part + "'");
    for (int c = lo; c <= hi; ++c) cpus.push_back(c);
  }
  return cpus;
}

NumaTopology read_numa_topology(const std::string& node_dir) {
  NumaTopology t;
  std::error_code ec;
  if (!std::filesystem::is_directory(node_dir, ec)) return t;
  std::vector<std::pair<int, std::string>> nodes;
  for (const auto& e : std::filesystem::directory_iterator(node_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("node", 0) != 0 || name.size() == 4 ||
        !std::all_of(name.begin() + 4, name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    nodes.emplace_back(std::stoi(name.substr(4)), e.path().string());
  }
  std::sort(nodes.begin(), nodes.end());
  for (const auto& [id, path] : nodes) {
    std::ifstream f(path + "/cpulist");
    std::stringstream text;
    text << f.rdbuf();
    auto cpus = parse_cpu_list(text.str(), path + "/cpulist");
    if (cpus.empty()) continue;  // memory-only node (e.g. CXL): no threads go there
    t.node_ids.push_back(id);
    t.node_cpus.push_back(std::move(cpus));
  }
  return t;
}

std::vector<int> spread_over_nodes(const NumaTopology& topology, const std::vector<int>& allowed) {
  const std::set<int> ok(allowed.begin(), allowed.end());
  std::vector<std::vector<int>> per_node;
  std::set<int> placed;
  for (const auto& cpus : topology.node_cpus) {
    per_node.emplace_back();
    for (int c : cpus)
      if (ok.count(c) && placed.insert(c).second) per_node.back().push_back(c);
  }
  std::vector<int> order;
  for (size_t i = 0;; ++i) {
    bool any = false;
    for (const auto& cpus : per_node)
      if (i < cpus.size()) {
        order.push_back(cpus[i]);
        any = true;
      }
    if (!any) break;
  }
  for (int c : allowed)
    if (!placed.count(c)) order.push_back(c);
  return order;
}

bool interleave_thread_memory(const NumaTopology& topology) {
  if (topology.node_ids.size() < 2) return false;
  constexpr size_t kBits = 8 * sizeof(unsigned long);
  const int max_node = *std::max_element(topology.node_ids.begin(), topology.node_ids.end());
  std::vector<unsigned long> mask(static_cast<size_t>(max_node) / kBits + 1, 0);
  for (int n : topology.node_ids) mask[static_cast<size_t>(n) / kBits] |= 1UL << (static_cast<size_t>(n) % kBits);
  return syscall(SYS_set_mempolicy, MPOL_INTERLEAVE, mask.data(), mask.size() * kBits + 1) == 0;
}

}  // namespace dsinfer::cpu
