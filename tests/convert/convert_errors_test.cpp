// Bad inputs and failing outputs: exit code 2, a message naming the file or
// tensor at fault, and nothing left behind that looks like a checkpoint.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstring>
#include <filesystem>

#include "convert_fixtures.h"

namespace dsinfer {
namespace {
namespace fs = std::filesystem;

// Runs `dsinfer convert` and checks the failure contract.
void expect_clean_failure(const std::string& in, const std::string& out, const std::string& message_part,
                          const std::string& prefix = "", const std::string& mode = "bfloat16") {
  const std::string args = "convert --input_fp8_hf_path " + in + " --output_hf_path " + out + " --quant_mode " + mode;
  test::CommandResult r;
  if (prefix.empty()) {
    r = test::run_dsinfer(args);
  } else {
    // Shell prefix (ulimit) applies to the converter only.
    const std::string cmd = "sh -c '" + prefix + "; exec " + std::string(DSINFER_BINARY) + " " + args + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    const int st = ::pclose(p);
    r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("dsinfer: error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(message_part), std::string::npos) << "expected '" << message_part << "' in: " << r.output;
  std::error_code ec;
  if (fs::is_directory(fs::path(out).parent_path(), ec)) {
    EXPECT_FALSE(fs::exists(out)) << out << " must not exist after a failure";
    EXPECT_TRUE(test::leftovers(out).empty()) << "staging directory left behind next to " << out;
  }
}

TEST(ConvertErrors, InputThatIsAlreadyBf16IsNotAnFp8Release) {
  const std::string bf16 = test::converted_checkpoint("kimi-k2-tiny", convert::QuantMode::Bfloat16);
  expect_clean_failure(bf16, test::scratch_dir("err") + "/out", "not an FP8 release");
}

TEST(ConvertErrors, Fp8ConfigWithoutAnyFp8WeightIsNotAnFp8Release) {
  const std::string in = test::write_fake_fp8_checkpoint(test::scratch_dir("err") + "/in", [](auto& t) {
    t.erase(t.begin(), t.begin() + 2);  // only the BF16 norm remains
  });
  expect_clean_failure(in, test::scratch_dir("err") + "/out", "no F8_E4M3 weights with *_scale_inv");
}

TEST(ConvertErrors, MissingScaleNamesTheTensor) {
  const std::string in = test::write_fake_fp8_checkpoint(test::scratch_dir("err") + "/in",
                                                         [](auto& t) { t.erase(t.begin() + 1); });
  expect_clean_failure(in, test::scratch_dir("err") + "/out",
                       "FP8 tensor 'model.layers.0.mlp.down_proj.weight' has no scale tensor "
                       "'model.layers.0.mlp.down_proj.weight_scale_inv'");
}

TEST(ConvertErrors, ScaleShapeMismatchNamesTheTensor) {
  const std::string in = test::write_fake_fp8_checkpoint(test::scratch_dir("err") + "/in", [](auto& t) {
    t[1].spec.shape = {3, 2};  // same bytes, wrong block grid
  });
  expect_clean_failure(in, test::scratch_dir("err") + "/out",
                       "scale tensor 'model.layers.0.mlp.down_proj.weight_scale_inv' has shape [3, 2]");
  for (const char* mode : {"w8a8c16", "w8a8c8"})
    expect_clean_failure(in, test::scratch_dir("err") + "/out", "needs [2, 3]", "", mode);
}

TEST(ConvertErrors, ScaleWithoutWeightNamesTheTensor) {
  const std::string in = test::write_fake_fp8_checkpoint(test::scratch_dir("err") + "/in", [](auto& t) {
    t[1].spec.name = "model.layers.0.mlp.up_proj.weight_scale_inv";
  });
  expect_clean_failure(in, test::scratch_dir("err") + "/out", "'model.layers.0.mlp.up_proj.weight_scale_inv' has no F8_E4M3 weight");
}

TEST(ConvertErrors, DiskFullMidShardLeavesNothingBehind) {
  // A 2 MB file size limit (ulimit -f, SIGXFSZ ignored) makes write(2) fail
  // with EFBIG inside the first 4 MB output shard, like a full disk.
  const std::string out = test::scratch_dir("err") + "/out";
  expect_clean_failure(test::data_path("deepseek-r1-tiny"), out, "write", "ulimit -f 4096; trap \"\" XFSZ");
}

TEST(ConvertErrors, AbsurdThreadCountIsRefusedBeforeAnyOutput) {
  const std::string dir = test::make_temp_dir("convert-threads");
  const std::string out = dir + "/out";
  const auto r = test::run_dsinfer("convert --input_fp8_hf_path " + test::data_path("deepseek-r1-tiny") +
                                   " --output_hf_path " + out + " --quant_mode bfloat16 --threads 100000");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--threads must be in [0, 1024]"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(test::leftovers(out).empty());
  fs::remove_all(dir);
}

TEST(ConvertErrors, UnwritableOutputPath) {
  const std::string dir = test::scratch_dir("err");
  test::write_text(dir + "/a_file", "x");
  // A path below a regular file cannot be created.
  expect_clean_failure(test::data_path("kimi-k2-tiny"), dir + "/a_file/out", "cannot create");
}

TEST(ConvertErrors, MissingInputDirectory) {
  expect_clean_failure("/nonexistent/model", test::scratch_dir("err") + "/out", "/nonexistent/model");
}

TEST(ConvertErrors, UnknownQuantMode) {
  const auto r = test::run_dsinfer("convert --input_fp8_hf_path " + test::data_path("kimi-k2-tiny") +
                                   " --output_hf_path /tmp/never --quant_mode w4a16");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("w4a16"), std::string::npos) << r.output;
}

TEST(ConvertErrors, BadQuantParamsAndCalibrationData) {
  const std::string dir = test::scratch_dir("err");
  fs::create_directories(dir + "/params");
  // Only layer 0 of kimi-k2-tiny's two layers.
  OwnedTensor s;
  s.spec = {"model.layers.0.self_attn.ckv_scale", DType::F32, {1}};
  const float v = 0.01f;
  s.bytes.resize(4);
  std::memcpy(s.bytes.data(), &v, 4);
  write_safetensors(dir + "/params/scales.safetensors", {s});
  const std::string in = test::data_path("kimi-k2-tiny");
  auto run = [&](const std::string& extra) {
    return test::run_dsinfer("convert --input_fp8_hf_path " + in + " --output_hf_path " + dir +
                             "/out --quant_mode w8a8c8 " + extra);
  };
  auto r = run("--quant_param_path " + dir + "/params");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("model.layers.1.self_attn.ckv_scale"), std::string::npos) << r.output;
  test::write_text(dir + "/calib.jsonl", "{\"ids\": [1, 2, 3]}\n{\"ids\": [1, 99999]}\n");
  r = run("--calib-data " + dir + "/calib.jsonl");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("calib.jsonl:2"), std::string::npos) << r.output;
  test::write_text(dir + "/text.jsonl", "{\"text\": \"hello\"}\n");
  r = run("--calib-data " + dir + "/text.jsonl");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("\"ids\""), std::string::npos) << r.output;
  r = run("--calib-percentile 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("(0, 100]"), std::string::npos) << r.output;
  r = test::run_dsinfer("convert --input_fp8_hf_path " + in + " --output_hf_path " + dir +
                        "/out --quant_mode w8a8c16 --calib-data " + dir + "/calib.jsonl");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("w8a8c8 only"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/out"));
  EXPECT_TRUE(test::leftovers(dir + "/out").empty());
}

}  // namespace
}  // namespace dsinfer
