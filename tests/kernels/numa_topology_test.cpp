// NUMA placement helpers on a fake sysfs tree: CPU-list parsing (with its
// errors), node discovery, and the thread order that alternates nodes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/error.h"
#include "kernels/cpu/numa_topology.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {

namespace fs = std::filesystem;

TEST(NumaTopology, ParsesCpuLists) {
  EXPECT_EQ(cpu::parse_cpu_list("0-3,8,10-11\n", "x"), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(cpu::parse_cpu_list("\n", "x"), std::vector<int>{});
  for (const char* bad : {"a", "3-1", "1-", "-2", "1,,x"}) {
    try {
      cpu::parse_cpu_list(bad, "node7/cpulist");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("node7/cpulist"), std::string::npos) << e.what();
    }
  }
}

TEST(NumaTopology, ReadsNodesAndSpreadsThreads) {
  const std::string dir = test::make_temp_dir("numa");
  auto node = [&](const std::string& name, const std::string& cpus) {
    fs::create_directories(dir + "/" + name);
    std::ofstream(dir + "/" + name + "/cpulist") << cpus << "\n";
  };
  node("node0", "0-3");
  node("node1", "4-7");
  node("node2", "");  // memory-only node: no threads
  fs::create_directories(dir + "/power");
  const cpu::NumaTopology t = cpu::read_numa_topology(dir);
  ASSERT_EQ(t.node_ids, (std::vector<int>{0, 1}));
  EXPECT_EQ(t.node_cpus[1], (std::vector<int>{4, 5, 6, 7}));
  // Allowed set without cpu 1, plus a CPU in no node: alternate, then the rest.
  EXPECT_EQ(cpu::spread_over_nodes(t, {0, 2, 3, 4, 5, 6, 7, 9}), (std::vector<int>{0, 4, 2, 5, 3, 6, 7, 9}));
  // No sysfs node directory: one implicit node, order unchanged.
  const cpu::NumaTopology none = cpu::read_numa_topology(dir + "/missing");
  EXPECT_TRUE(none.node_ids.empty());
  EXPECT_EQ(cpu::spread_over_nodes(none, {3, 1}), (std::vector<int>{3, 1}));
  EXPECT_FALSE(cpu::interleave_thread_memory(none));  // one node: nothing to interleave
  fs::remove_all(dir);
}

TEST(NumaTopology, ThisMachineHasItsCpusInNodes) {
  const cpu::NumaTopology t = cpu::read_numa_topology();
  if (t.node_ids.empty()) GTEST_SKIP() << "no /sys/devices/system/node";
  size_t cpus = 0;
  for (const auto& c : t.node_cpus) cpus += c.size();
  EXPECT_GT(cpus, 0u);
}

}  // namespace
}  // namespace dsinfer
