// `dsinfer bench` on the tiny synthetic config: runs quickly and writes the
// JSON schema of issue 6 with finite, positive fractions. Not a performance
// assertion (CI machines are noisy).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace {

TEST(BenchCommand, TinySyntheticWritesCeilingsAndCases) {
  const std::string json = (std::filesystem::temp_directory_path() / "dsinfer_bench_test.json").string();
  const std::string cmd = std::string(DSINFER_BINARY) +
                          " bench --synthetic tiny --layers 2 --weights all --quick --no-pin --batches 1,4"
                          " --contexts 64,256 --prefill 48 --read-buffer-mb 64 --json " + json + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(json);
  ASSERT_TRUE(f.good());
  const auto j = nlohmann::json::parse(f);
  const auto& c = j.at("ceilings");
  for (const char* k : {"read_gb_per_s", "int8_tops", "bf16_tflops"}) {
    ASSERT_TRUE(c.at(k).is_number()) << k;
  }
  EXPECT_GT(c.at("read_gb_per_s").get<double>(), 0.0);
  // One thread cannot read faster than all of them (10% slack: separate passes on a shared machine).
  const double one = c.at("read_gb_per_s_1thread").get<double>();
  EXPECT_GT(one, 0.0);
  EXPECT_LE(one, 1.1 * c.at("read_gb_per_s").get<double>());
  const auto& cases = j.at("cases");
  ASSERT_EQ(cases.size(), 3u * (2 * 2 + 1));  // 3 formats x (2 batches x 2 contexts + 1 prefill)
  for (const auto& k : cases) {
    const std::string phase = k.at("phase");
    EXPECT_TRUE(phase == "decode" || phase == "prefill");
    const std::string w = k.at("weights");
    EXPECT_TRUE(w == "w8a8" || w == "bf16" || w == "fp8");
    EXPECT_GT(k.at("batch").get<int64_t>(), 0);
    EXPECT_GT(k.at("context").get<int64_t>(), 0);
    for (const char* f : {"time_ms", "bytes", "flops", "bw_fraction"}) {
      const double v = k.at(f).get<double>();
      EXPECT_TRUE(std::isfinite(v) && v > 0) << f << " = " << v;
    }
    const double cf = k.at("compute_fraction").get<double>();
    EXPECT_TRUE(std::isfinite(cf) && cf >= 0) << cf;
    // Prefill (compute-bound) is judged against peaks measured around it, no
    // higher than the run's best sample; decode against the start-up peaks.
    const auto& pk = k.at("peaks");
    EXPECT_EQ(pk.at("measured_around_case").get<bool>(), phase == "prefill");
    for (const char* unit : {"int8_tops", "bf16_tflops", "fp32_tflops"}) {
      const double v = pk.at(unit).get<double>();
      EXPECT_GE(v, 0.0) << unit;
      EXPECT_LE(v, c.at(unit).get<double>()) << unit;
    }
    EXPECT_GT(pk.at("fp32_tflops").get<double>(), 0.0);
    ASSERT_EQ(k.at("phases").size(), 6u);
    for (size_t i = 0; i < 6; ++i)
      EXPECT_EQ(k.at("phases")[i].at("name").get<std::string>(),
                (std::vector<std::string>{"attention", "attention_core", "router", "routed_experts", "shared_expert",
                                          "lm_head"}[i]));
  }
  std::filesystem::remove(json);
}

// Without AVX-512 (forced here) the ceilings fall back to portable loops:
// read bandwidth and fp32 peak are still measured, so fp8 fractions exist.
TEST(BenchCommand, PortableCeilingsWithoutAvx512) {
  const std::string json = (std::filesystem::temp_directory_path() / "dsinfer_bench_scalar.json").string();
  const std::string cmd = "DSINFER_ISA=scalar " + std::string(DSINFER_BINARY) +
                          " bench --synthetic tiny --layers 1 --weights fp8 --quick --no-pin --batches 1"
                          " --contexts 64 --prefill 16 --read-buffer-mb 64 --json " + json + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(json);
  const auto j = nlohmann::json::parse(f);
  EXPECT_GT(j.at("ceilings").at("read_gb_per_s").get<double>(), 0.0);
  for (const auto& k : j.at("cases")) {
    EXPECT_GT(k.at("bw_fraction").get<double>(), 0.0);
    EXPECT_GT(k.at("compute_fraction").get<double>(), 0.0);
  }
  std::filesystem::remove(json);
}

}  // namespace
