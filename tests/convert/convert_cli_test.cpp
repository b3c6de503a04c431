// `dsinfer convert` and scripts/weight_convert.sh as a user runs them:
// refusing to overwrite, --force, staging + rename, progress output, C8
// scale sources.
#include <gtest/gtest.h>

#include <filesystem>

#include "convert/ckv_calibration.h"
#include "convert/progress_meter.h"
#include "convert/staging_dir.h"
#include "convert_fixtures.h"
#include "io/safetensors.h"

namespace dsinfer {
namespace {
namespace fs = std::filesystem;

std::string convert_args(const std::string& in, const std::string& out, const std::string& mode) {
  return "convert --input_fp8_hf_path " + in + " --output_hf_path " + out + " --quant_mode " + mode;
}

TEST(ConvertCli, RefusesNonEmptyOutputWithoutForce) {
  const std::string out = test::scratch_dir("cli") + "/out";
  fs::create_directories(out);
  test::write_text(out + "/keep.txt", "precious");
  const auto r = test::run_dsinfer(convert_args(test::data_path("kimi-k2-tiny"), out, "bfloat16"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("not empty (use --force"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(out + "/keep.txt"));
  EXPECT_FALSE(fs::exists(out + "/config.json"));
  EXPECT_TRUE(test::leftovers(out).empty());
}

TEST(ConvertCli, ForceReplacesTheOutputAtomically) {
  const std::string out = test::scratch_dir("cli") + "/out";
  fs::create_directories(out);
  test::write_text(out + "/stale.txt", "old");
  const auto r = test::run_dsinfer(convert_args(test::data_path("kimi-k2-tiny"), out, "w8a8c16") + " --force");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(out + "/stale.txt"));
  EXPECT_TRUE(fs::exists(out + "/config.json"));
  EXPECT_TRUE(test::leftovers(out).empty()) << "no OUT.tmp-* / OUT.old-* after success";
  Checkpoint ck(out);  // complete and loadable
  EXPECT_TRUE(ck.has("model.layers.0.mlp.down_proj.weight_scale"));
}

TEST(ConvertCli, AcceptsAnExistingEmptyOutputAndCreatesParents) {
  const std::string base = test::scratch_dir("cli");
  fs::create_directories(base + "/empty");
  EXPECT_EQ(test::run_dsinfer(convert_args(test::data_path("kimi-k2-tiny"), base + "/empty", "bfloat16")).exit_code, 0);
  EXPECT_TRUE(fs::exists(base + "/empty/config.json"));
  EXPECT_EQ(test::run_dsinfer(convert_args(test::data_path("kimi-k2-tiny"), base + "/a/b/c", "bfloat16")).exit_code, 0);
  EXPECT_TRUE(fs::exists(base + "/a/b/c/model-00001-of-00001.safetensors"));
}

TEST(ConvertCli, RefusesToWriteOntoItsInput) {
  const std::string in = test::scratch_dir("cli") + "/in";
  fs::copy(test::data_path("kimi-k2-tiny"), in);
  const auto r = test::run_dsinfer(convert_args(in, in, "bfloat16") + " --force");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("is the input directory"), std::string::npos) << r.output;
}

TEST(ConvertCli, BuildsInAStagingDirectoryAndRenamesAtTheEnd) {
  const std::string out = test::scratch_dir("cli") + "/out";
  std::string staged;
  {
    convert::StagingDir staging(out, false);
    staged = staging.path();
    EXPECT_EQ(fs::path(staged).parent_path(), fs::path(out).parent_path());
    EXPECT_EQ(fs::path(staged).filename().string().rfind("out.tmp-", 0), 0u) << staged;
    EXPECT_FALSE(fs::exists(out)) << "nothing named OUT before commit";
    test::write_text(staged + "/config.json", "{}");
  }  // destroyed without commit: an interrupted conversion
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_FALSE(fs::exists(out));
  {
    convert::StagingDir staging(out, false);
    test::write_text(staging.path() + "/config.json", "{}");
    staging.commit();
  }
  EXPECT_TRUE(fs::exists(out + "/config.json"));
  EXPECT_TRUE(test::leftovers(out).empty());
}

TEST(ConvertCli, PlainLogLinesWhenNotATerminal) {
  const std::string out = test::scratch_dir("cli") + "/out";
  const auto r = test::run_dsinfer(convert_args(test::data_path("deepseek-r1-tiny"), out, "bfloat16") + " --threads 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find('\r'), std::string::npos) << "no bar redraws in a log";
  EXPECT_NE(r.output.find("convert: shard 3/3 model-00003-of-00003.safetensors written"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ETA"), std::string::npos);
  EXPECT_NE(r.output.find("MB/s"), std::string::npos);
  std::printf("%s", r.output.c_str());
}

TEST(ConvertCli, ProgressBarOnATerminal) {
  ::testing::internal::CaptureStderr();
  {
    convert::ProgressMeter bar(1000, convert::ProgressStyle::Bar);
    bar.advance(500);
    bar.log("halfway");
    bar.advance(500);
    bar.finish();
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("\r"), std::string::npos);
  EXPECT_NE(err.find("[###############               ]"), std::string::npos) << err;
  EXPECT_NE(err.find("B/s  ETA"), std::string::npos) << err;
  EXPECT_NE(err.find("halfway\n"), std::string::npos) << err;
}

TEST(ConvertCli, WeightConvertScriptTakesTheSeedsFlags) {
  const std::string out = test::scratch_dir("cli") + "/DeepSeek-R1-W8A8C16";
  const std::string cmd = "DSINFER_BIN=" + std::string(DSINFER_BINARY) + " bash " + test::data_path("../../scripts/weight_convert.sh") +
                          " --input_fp8_hf_path " + test::data_path("deepseek-r1-tiny") + " --output_hf_path " + out +
                          " --quant_mode w8a8c16 >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  Checkpoint ck(out);
  EXPECT_EQ(ck.get("model.layers.0.mlp.down_proj.weight").dtype, DType::I8);
}

float stored_ckv_scale(const std::string& dir, int layer) {
  Checkpoint ck(dir);
  return ck.get(convert::ckv_scale_name(layer)).as<float>()[0];
}

TEST(ConvertCli, C8ScalesFromQuantParamPathCalibDataOrPercentile) {
  const std::string base = test::scratch_dir("cli");
  const std::string in = test::data_path("kimi-k2-tiny");
  // Precomputed scales are stored as given.
  fs::create_directories(base + "/params");
  std::vector<OwnedTensor> scales;
  for (int l = 0; l < 2; ++l) {
    OwnedTensor t;
    t.spec = {convert::ckv_scale_name(l), DType::F32, {1}};
    const float v = 0.02f + 0.01f * static_cast<float>(l);
    t.bytes.resize(4);
    std::memcpy(t.bytes.data(), &v, 4);
    scales.push_back(t);
  }
  write_safetensors(base + "/params/kv_scales.safetensors", scales);
  ASSERT_EQ(test::run_dsinfer(convert_args(in, base + "/given", "w8a8c8") + " --quant_param_path " + base + "/params").exit_code, 0);
  EXPECT_EQ(stored_ckv_scale(base + "/given", 0), 0.02f);
  EXPECT_EQ(stored_ckv_scale(base + "/given", 1), 0.03f);

  // Calibration: max over the set by default; a percentile clips below it.
  test::write_text(base + "/calib.jsonl", "{\"ids\": [5, 9, 200, 7, 1000, 3]}\n\n{\"ids\": [17, 18, 19, 20]}\n");
  ASSERT_EQ(test::run_dsinfer(convert_args(in, base + "/jsonl", "w8a8c8") + " --calib-data " + base + "/calib.jsonl").exit_code, 0);
  ASSERT_EQ(test::run_dsinfer(convert_args(in, base + "/p90", "w8a8c8") + " --calib-data " + base +
                              "/calib.jsonl --calib-percentile 90").exit_code, 0);
  const std::string dflt = test::converted_checkpoint("kimi-k2-tiny", convert::QuantMode::W8A8C8);
  for (int l = 0; l < 2; ++l) {
    EXPECT_LT(stored_ckv_scale(base + "/p90", l), stored_ckv_scale(base + "/jsonl", l));
    // The 10 tokens of the jsonl set see fewer extremes than the default 8 x 128 random tokens.
    EXPECT_LE(stored_ckv_scale(base + "/jsonl", l), stored_ckv_scale(dflt, l));
    std::printf("[c8] kimi-k2-tiny layer %d ckv_scale: default %.5g, jsonl %.5g, jsonl p90 %.5g\n", l,
                stored_ckv_scale(dflt, l), stored_ckv_scale(base + "/jsonl", l), stored_ckv_scale(base + "/p90", l));
  }
}

}  // namespace
}  // namespace dsinfer
