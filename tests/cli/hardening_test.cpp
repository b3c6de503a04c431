// Issue 15's hostile inputs: each class the probe found gives exit 2 and a
// message naming the culprit, never a crash, a hang, exit 3 or garbage; and
// nothing the user gave is overwritten.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.h"

namespace dsinfer {
namespace {
namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class Hardening : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("hardening");
    model_ = dir_ + "/model";
    fs::copy(test::data_path("deepseek-r1-tiny"), model_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  test::CommandResult logits(const std::string& extra = "") {
    return test::run_dsinfer("logits --no-pin --model " + model_ + " --ids 1,2,3 --out " + dir_ + "/out.npy " + extra);
  }
  static void expect_exit2(const test::CommandResult& r, const std::vector<std::string>& needles) {
    EXPECT_EQ(r.exit_code, 2) << r.output;
    for (const auto& n : needles) EXPECT_NE(r.output.find(n), std::string::npos) << "missing '" << n << "' in: " << r.output;
    EXPECT_LT(r.output.size(), 2000u) << "an unbounded value was printed";
  }
  void set_config_text(const std::string& text) { std::ofstream(model_ + "/config.json") << text; }
  std::string config_text() { return slurp(model_ + "/config.json"); }
  void edit_config(const std::function<void(nlohmann::json&)>& edit) {
    auto j = nlohmann::json::parse(config_text());
    edit(j);
    set_config_text(j.dump(2));
  }
  std::string shard(int i) { return model_ + "/model-0000" + std::to_string(i) + "-of-00003.safetensors"; }
  std::string dir_, model_;
};

TEST_F(Hardening, DeeplyNestedJsonIsRefusedNotACrash) {
  std::string text = config_text();
  const auto at = text.find("\"hidden_size\"");
  ASSERT_NE(at, std::string::npos);
  // "hidden_size": [[[[...70000...]]]] in place of the number.
  const auto colon = text.find(':', at), comma = text.find(',', colon);
  text = text.substr(0, colon + 1) + std::string(70000, '[') + std::string(70000, ']') + text.substr(comma);
  set_config_text(text);
  expect_exit2(logits(), {"config.json", "nested deeper than 128"});
}

TEST_F(Hardening, DeeplyNestedSafetensorsHeaderIsRefused) {
  std::string bytes = slurp(shard(1));
  uint64_t len = 0;
  std::memcpy(&len, bytes.data(), 8);
  std::string header = bytes.substr(8, len);
  const auto at = header.find("\"dtype\":");
  ASSERT_NE(at, std::string::npos);
  const auto value_end = header.find(',', at);
  std::string deep = std::string(60000, '[') + std::string(60000, ']');
  header = header.substr(0, at + 8) + deep + header.substr(value_end);
  const uint64_t new_len = header.size();
  std::string out(reinterpret_cast<const char*>(&new_len), 8);
  out += header + bytes.substr(8 + len);
  std::ofstream(shard(1), std::ios::binary | std::ios::trunc) << out;
  expect_exit2(logits(), {"model-00001-of-00003.safetensors", "nested deeper than 128"});
}

TEST_F(Hardening, DuplicateKeysAreRefused) {
  std::string text = config_text();
  text.insert(text.find('{') + 1, "\"hidden_size\": 999,");
  set_config_text(text);
  expect_exit2(logits(), {"config.json", "duplicate key \"hidden_size\""});
}

TEST_F(Hardening, FifosAreRefusedNotWaitedOn) {
  fs::remove(model_ + "/config.json");
  ASSERT_EQ(::mkfifo((model_ + "/config.json").c_str(), 0600), 0);
  expect_exit2(test::run_shell("timeout 20 " + test::dsinfer_binary() + " logits --no-pin --model " + model_ +
                               " --ids 1,2 --out " + dir_ + "/o.npy"),
               {"config.json", "FIFO"});
  fs::remove(model_ + "/config.json");
  fs::copy(test::data_path("deepseek-r1-tiny") + "/config.json", model_ + "/config.json");
  fs::remove(shard(2));
  ASSERT_EQ(::mkfifo(shard(2).c_str(), 0600), 0);
  expect_exit2(test::run_shell("timeout 20 " + test::dsinfer_binary() + " logits --no-pin --model " + model_ +
                               " --ids 1,2 --out " + dir_ + "/o.npy"),
               {"model-00002-of-00003.safetensors", "not a regular file"});
  const std::string yaml = dir_ + "/run.yaml";
  ASSERT_EQ(::mkfifo(yaml.c_str(), 0600), 0);
  expect_exit2(test::run_shell("timeout 20 " + test::dsinfer_binary() + " run --quiet --config " + yaml),
               {"run.yaml", "FIFO"});
}

TEST_F(Hardening, ConfigValuesTheMathNeedsAreRangeChecked) {
  for (const auto& [field, value, needle] : std::vector<std::tuple<std::string, double, std::string>>{
           {"rms_norm_eps", -1e-6, "rms_norm_eps"}, {"rope_theta", 1.0, "rope_theta"},
           {"routed_scaling_factor", 1e30, "routed_scaling_factor"}}) {
    fs::copy(test::data_path("deepseek-r1-tiny") + "/config.json", model_ + "/config.json",
             fs::copy_options::overwrite_existing);
    edit_config([&](nlohmann::json& j) { j[field] = value; });
    expect_exit2(logits(), {"config.json", needle});
  }
  fs::copy(test::data_path("deepseek-r1-tiny") + "/config.json", model_ + "/config.json",
           fs::copy_options::overwrite_existing);
  edit_config([](nlohmann::json& j) { j["rope_scaling"] = {{"type", "yarn"}, {"factor", 4}, {"beta_fast", -1}}; });
  expect_exit2(logits(), {"beta_fast"});
  edit_config([](nlohmann::json& j) { j["rope_scaling"] = {{"type", 7}}; });  // once exit 3
  expect_exit2(logits(), {"config.json"});
}

TEST_F(Hardening, HeaderLengthIntoThePaddingIsRefused) {
  std::string bytes = slurp(shard(1));
  uint64_t len = 0;
  std::memcpy(&len, bytes.data(), 8);
  const uint64_t shorter = len - 2;  // still valid JSON when the header ends in padding spaces
  std::memcpy(bytes.data(), &shorter, 8);
  std::ofstream(shard(1), std::ios::binary | std::ios::trunc) << bytes;
  expect_exit2(logits(), {"model-00001-of-00003.safetensors", "header length"});
}

TEST_F(Hardening, IndexEntriesOutsideTheModelDirectoryAreRefused) {
  for (const std::string target : {"../outside.safetensors", "/etc/passwd"}) {
    auto idx = nlohmann::json::parse(slurp(model_ + "/model.safetensors.index.json"));
    idx["weight_map"]["model.norm.weight"] = target;
    std::ofstream(model_ + "/model.safetensors.index.json") << idx.dump();
    expect_exit2(logits(), {"leaves the model directory", target});
  }
}

TEST_F(Hardening, OutputsNeverReplaceInputsOrFollowIntoDevices) {
  const std::string before = slurp(shard(3));
  expect_exit2(test::run_dsinfer("logits --no-pin --model " + model_ + " --ids 1,2 --out " + shard(3)),
               {"is one of the inputs"});
  EXPECT_EQ(slurp(shard(3)), before);
  // Through a symlink: the link stays, its target gets the data.
  const std::string target = dir_ + "/real.npy", link = dir_ + "/link.npy";
  std::ofstream(target) << "old";
  fs::create_symlink(target, link);
  const auto r = test::run_dsinfer("logits --no-pin --model " + model_ + " --ids 1,2 --out " + link);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(slurp(target).substr(1, 5), "NUMPY");
  // A device is written in place, never renamed over: /dev/full fails the write.
  expect_exit2(test::run_dsinfer("logits --no-pin --model " + model_ + " --ids 1,2 --out /dev/full"), {"write failed"});
  struct stat st {};
  ASSERT_EQ(::stat("/dev/full", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST_F(Hardening, ConvertRefusesAnOutputInsideItsInput) {
  const auto r = test::run_dsinfer("convert --input_fp8_hf_path " + model_ + " --output_hf_path " + model_ +
                                   "/converted --quant_mode bfloat16");
  expect_exit2(r, {"inside the input directory"});
  EXPECT_FALSE(fs::exists(model_ + "/converted"));
  for (const auto& e : fs::directory_iterator(model_)) EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos);
}

TEST_F(Hardening, ConvertRemovesStagingLeftByADeadConversion) {
  const std::string out = dir_ + "/out";
  const std::string stale = dir_ + "/out.tmp-999999999-dead01";  // no such process
  fs::create_directory(stale);
  std::ofstream(stale + "/model-00001-of-00003.safetensors") << "partial";
  const std::string alive = dir_ + "/out.tmp-" + std::to_string(::getpid()) + "-alive1";  // this test: running
  fs::create_directory(alive);
  const std::string other = dir_ + "/out.tmp-notapid";  // not named by us: left alone
  fs::create_directory(other);
  const auto r = test::run_dsinfer("convert --quiet --input_fp8_hf_path " + model_ + " --output_hf_path " + out +
                                   " --quant_mode bfloat16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(alive));
  EXPECT_TRUE(fs::exists(other));
}

TEST_F(Hardening, YamlDuplicatesSecondDocumentsAndOddKeysAreRefused) {
  const std::string base = "model_name: deepseek_r1\nmodel_path: \"" + model_ + "\"\nworld_size: 1\n";
  auto run_yaml = [&](const std::string& text) {
    std::ofstream(dir_ + "/r.yaml") << text;
    return test::run_dsinfer("run --quiet --no-pin --config " + dir_ + "/r.yaml");
  };
  expect_exit2(run_yaml(base + "world_size: 2\n"), {"world_size", "given twice"});
  expect_exit2(run_yaml(base + "---\nworld_size: 2\n"), {"2 YAML documents"});
  expect_exit2(run_yaml(base + "data_config:\n  ? [a, b]\n  : 1\n"), {"data_config", "not a plain name"});
  expect_exit2(run_yaml(base + "? [a, b]\n: 1\n"), {"line 4", "not a 'key:'"});
  expect_exit2(run_yaml(base + "data_config:\n  \xff\xfe: 1\n"), {"not valid UTF-8"});
  expect_exit2(run_yaml("model_name: deepseek_r1\nmodel_path: \"/tmp/\xff\"\nworld_size: 1\n"),
               {"model_path", "not valid UTF-8"});
  expect_exit2(run_yaml(base + "model_config:\n  pa_block_size: 288230376151711744\n"), {"pa_block_size"});
  expect_exit2(run_yaml(base + "data_config:\n  batch_size: 4611686018427387904\n"), {"does not fit"});
  expect_exit2(run_yaml(base + "x: " + std::string(200, '[') + std::string(200, ']') + "\n"), {"nested"});
  // Found by the fuzzer: yaml-cpp allocates without bound on a top-level scalar followed by ','.
  expect_exit2(run_yaml(", DeepSeek-R1\n! int1: promp\n"), {"line 1", "not a 'key:'"});
  // Found by a 10-minute run: the same after a document-end marker.
  expect_exit2(run_yaml(base + "... ,\xc8\n"), {"line 4", "document marker"});
  expect_exit2(run_yaml("%YAML 1.2\n---\n" + base), {"line 1", "directives"});
  // Found by a 10-minute run: a %TAG line inside a document, unbounded allocation.
  expect_exit2(run_yaml(base + "model_config:\n  next_n: 1\n%TAG en: 65536\n  x: 1\n"), {"line 6", "directives"});
  expect_exit2(run_yaml("model_name:rs tint.\n  ,x: 1\n"), {"line 1", "not a 'key:'"});
  // Markers alone (with a comment) stay legal.
  const auto ok = run_yaml("--- # the run\n" + base + "...\n");
  EXPECT_EQ(ok.output.find("document marker"), std::string::npos) << ok.output;
}

// A config field that disagrees with the checkpoint: the message names the
// tensor, both shapes and the config fields the implied dims come from.
TEST_F(Hardening, ShapeMismatchNamesTheConfigField) {
  int64_t moe = 0;
  edit_config([&](nlohmann::json& j) {
    moe = j["moe_intermediate_size"].get<int64_t>() * 2;
    j["moe_intermediate_size"] = moe;
  });
  expect_exit2(logits(), {"has shape", std::to_string(moe) + " = moe_intermediate_size", "= hidden_size"});
}

// The absurd-size findings fail fast and small: exit 2 with peak RSS under
// 200 MB (nothing is allocated from the size before it is checked).
TEST_F(Hardening, AbsurdSizesExitTwoInLittleMemory) {
  const std::string base = "model_name: deepseek_r1\nmodel_path: \"" + model_ + "\"\nworld_size: 1\n";
  auto yaml = [&](const std::string& name, const std::string& extra) {
    const std::string path = dir_ + "/" + name + ".yaml";
    std::ofstream(path) << base << extra;
    return "run --quiet --no-pin --config " + path;
  };
  const std::string gen = "generate --no-pin --model " + model_ + " --ids 1,2,3 ";
  const std::vector<std::string> cases = {
      gen + "--page-size 288230376151711744",
      gen + "--max-new-tokens 100000000",
      yaml("batch", "data_config:\n  batch_size: 4611686018427387904\n"),
      yaml("page", "model_config:\n  pa_block_size: 288230376151711744\n"),
      yaml("len", "data_config:\n  input_max_len: 9223372036854775000\n  max_new_tokens: 1000\n"),
  };
  for (const auto& args : cases) {
    int code = -1;
    const long bytes = test::peak_rss_of_dsinfer(args, &code);
    EXPECT_EQ(code, 2) << args;
    EXPECT_GT(bytes, 0) << args;
    EXPECT_LT(bytes, 200L << 20) << args << ": peak RSS " << (bytes >> 20) << " MiB";
  }
}

TEST_F(Hardening, PageSizesPastTheRangeAreRefused) {
  expect_exit2(test::run_dsinfer("generate --no-pin --model " + model_ + " --ids 1,2 --page-size 288230376151711744"),
               {"--page-size"});
}

// A layer that produces NaN is named; --allow-nonfinite continues with a warning.
TEST_F(Hardening, NonFiniteHiddenStatesNameTheLayer) {
  // bf16 NaN (0x7fc0) in model.layers.1.input_layernorm.weight.
  std::string found;
  for (int i = 1; i <= 3 && found.empty(); ++i) {
    std::string bytes = slurp(shard(i));
    uint64_t len = 0;
    std::memcpy(&len, bytes.data(), 8);
    const auto header = nlohmann::json::parse(bytes.substr(8, len));
    if (!header.contains("model.layers.1.input_layernorm.weight")) continue;
    const auto off = header["model.layers.1.input_layernorm.weight"]["data_offsets"][0].get<size_t>();
    bytes[8 + len + off] = static_cast<char>(0xc0);
    bytes[8 + len + off + 1] = static_cast<char>(0x7f);
    std::ofstream(shard(i), std::ios::binary | std::ios::trunc) << bytes;
    found = shard(i);
  }
  ASSERT_FALSE(found.empty());
  expect_exit2(logits(), {"non-finite", "model.layers.1", "--allow-nonfinite"});
  const auto r = logits("--allow-nonfinite");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("WARNING"), std::string::npos) << r.output;
}

TEST_F(Hardening, LongBenchFolderAsTheRecipeLaysItOut) {
  fs::create_directories(dir_ + "/LongBench/data");
  std::ofstream(dir_ + "/LongBench/data/a.jsonl") << "{\"context\": \"hello world\"}\n";
  std::ofstream(dir_ + "/r.yaml") << "model_name: deepseek_r1\nmodel_path: \"" << model_
                                  << "\"\nworld_size: 1\ndata_config:\n  dataset: LongBench\n  dataset_path: \"" << dir_
                                  << "/LongBench\"\n  input_max_len: 16\n  max_new_tokens: 2\n  batch_size: 1\n";
  const auto r = test::run_dsinfer("run --quiet --no-pin --no-warmup --config " + dir_ + "/r.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// 10M spaces are valid text: they tokenize (PCRE2's fixed step limit refused them).
TEST_F(Hardening, TenMillionSpacesTokenize) {
  fs::create_directory(dir_ + "/tok");
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy(test::source_root() + "/assets/deepseek-r1/" + f, dir_ + "/tok/" + f);
  std::ofstream(dir_ + "/spaces.txt") << std::string(10'000'000, ' ');
  const auto r = test::run_dsinfer("tokenize --model " + dir_ + "/tok --text-file " + dir_ + "/spaces.txt");
  ASSERT_EQ(r.exit_code, 0) << r.output.substr(0, 500);
  EXPECT_EQ(r.output.rfind("{\"ids\":[", 0), 0u) << r.output.substr(0, 200);
}

// A truncated tiktoken.model is named as such, not blamed on a rank or on tokenizer_config.json.
TEST_F(Hardening, TruncatedTiktokenModelIsNamed) {
  const std::string src = test::data_path("tokenizers/kimi-k2");
  fs::create_directory(dir_ + "/k2");
  fs::copy(src + "/tokenizer_config.json", dir_ + "/k2/tokenizer_config.json");
  const std::string whole = slurp(src + "/tiktoken.model");
  std::ofstream(dir_ + "/k2/tiktoken.model", std::ios::binary) << whole.substr(0, 100000);
  expect_exit2(test::run_dsinfer("tokenize --model " + dir_ + "/k2 --text hello"), {"tiktoken.model", "truncated"});
  std::ofstream(dir_ + "/k2/tiktoken.model", std::ios::binary | std::ios::trunc)
      << whole.substr(0, whole.find('\n', 100000) + 1);
  expect_exit2(test::run_dsinfer("tokenize --model " + dir_ + "/k2 --text hello"), {"tiktoken.model", "truncated?"});
}

// Id lists too long for a command line come from a file.
TEST_F(Hardening, IdsFileGivesTheSameLogitsAsIds) {
  std::ofstream(dir_ + "/ids.txt") << "1, 2\n3\n";
  const auto a = test::run_dsinfer("logits --no-pin --model " + model_ + " --ids 1,2,3 --out " + dir_ + "/a.npy");
  const auto b = test::run_dsinfer("logits --no-pin --model " + model_ + " --ids-file " + dir_ + "/ids.txt --out " +
                                   dir_ + "/b.npy");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_EQ(slurp(dir_ + "/a.npy"), slurp(dir_ + "/b.npy"));
  std::ofstream(dir_ + "/bad.txt") << "1 2 x7";
  expect_exit2(test::run_dsinfer("logits --no-pin --model " + model_ + " --ids-file " + dir_ + "/bad.txt --out " +
                                 dir_ + "/c.npy"),
               {"--ids-file", "bad.txt", "'x7'"});
  expect_exit2(test::run_dsinfer("logits --no-pin --model " + model_ + " --out " + dir_ + "/c.npy"), {"--ids-file"});
}

}  // namespace
}  // namespace dsinfer
