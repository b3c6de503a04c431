// `dsinfer run` and scripts/infer.sh from the command line, and the built-in
// demo (no arguments), which must print its report within 2 minutes here.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/golden.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {
namespace fs = std::filesystem;

TEST(RunCli, TinyConfigFromAnyDirectoryWritesResults) {
  const std::string dir = test::make_temp_dir("runcli");
  // Run from another directory: the config's relative model_path resolves beside the YAML.
  auto r = test::run_shell("cd " + dir + " && " + test::dsinfer_binary() + " run --config " + test::source_root() +
                           "/configs/tiny/kimi_k2_tiny.yaml --output " + dir + "/r.json --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("TPOT"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("decode step average"), std::string::npos);
  std::ifstream f(dir + "/r.json");
  const auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["outputs"].size(), 4u);
  EXPECT_EQ(j["model"]["model_type"], "kimi_k2");
  EXPECT_EQ(j["model"]["compute_precision"], "fp32");  // an FP8 release: exact by default
  fs::remove_all(dir);
}

TEST(RunCli, PrecisionFlagIsReportedAndValidated) {
  const std::string dir = test::make_temp_dir("runprec");
  const std::string cfg = test::source_root() + "/configs/tiny/kimi_k2_tiny.yaml";
  auto r = test::run_dsinfer("run --config " + cfg + " --precision bf16 --no-warmup --quiet --output " + dir + "/r.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(dir + "/r.json");
  EXPECT_EQ(nlohmann::json::parse(f)["model"]["compute_precision"], "bf16");
  for (const char* cmd : {"run --config ", "logits --ids 1,2 --out x.npy --model ", "generate --ids 1,2 --model "}) {
    const std::string target = std::string(cmd).find("run") == 0 ? cfg : test::golden("kimi-k2-tiny").model_dir;
    auto bad = test::run_dsinfer(std::string(cmd) + target + " --precision fp16");
    EXPECT_EQ(bad.exit_code, 2) << cmd << bad.output;
    EXPECT_NE(bad.output.find("--precision"), std::string::npos) << bad.output;
    EXPECT_NE(bad.output.find("'fp16'"), std::string::npos) << bad.output;
  }
  fs::remove_all(dir);
}

TEST(RunCli, InferScriptReadsYamlFileName) {
  auto r = test::run_shell("YAML_FILE_NAME=tiny/deepseek_r1_tiny.yaml DSINFER_BIN=" + test::dsinfer_binary() + " bash " +
                           test::source_root() + "/scripts/infer.sh --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("deepseek-r1-tiny"), std::string::npos) << r.output;
}

TEST(RunCli, BadConfigIsOneLineExitTwo) {
  const std::string dir = test::make_temp_dir("badyaml");
  std::ofstream(dir + "/c.yaml") << "model_name: deepseek_r1\nmodel_path: /x\nmodel_config:\n  next_n: 7\n";
  auto r = test::run_dsinfer("run --config " + dir + "/c.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("model_config.next_n"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

TEST(RunCli, HelpDocumentsFlags) {
  auto r = test::run_dsinfer("run --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* f : {"--config", "--output", "--no-warmup", "--quiet", "--precision", "--no-pin"}) EXPECT_NE(r.output.find(f), std::string::npos) << f;
}

TEST(RunCli, BuiltInDemoReportsWithinTwoMinutes) {
  const std::string cache = test::make_temp_dir("democache");  // fresh: includes generating the model
  const auto t0 = std::chrono::steady_clock::now();
  auto r = test::run_shell("cd " + cache + " && DSINFER_CACHE_DIR=" + cache + " " + test::dsinfer_binary() + " run");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::printf("[demo] dsinfer run (no args, fresh cache) took %.1f s\n", s);
  EXPECT_LT(s, 120.0);
  EXPECT_NE(r.output.find("RANDOM"), std::string::npos);
  EXPECT_NE(r.output.find("TTFT"), std::string::npos);
  EXPECT_NE(r.output.find("output[0]"), std::string::npos);
  fs::remove_all(cache);
}

}  // namespace
}  // namespace dsinfer
