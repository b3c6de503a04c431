// The CLI contract: `logits` writes a NumPy v1.0 '<f4' C-order [n, vocab]
// array matching the reference; `generate` writes prompt and generated ids.
#include <gtest/gtest.h>

#include "io/safetensors.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/golden.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {

std::string join_ids(const std::vector<int32_t>& ids, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

TEST(LogitsCli, WritesNpyMatchingGolden) {
  const auto& g = test::golden("deepseek-r1-tiny");
  const auto& p = g.prompts[2];
  const std::string dir = test::make_temp_dir("logits");
  const std::string out = dir + "/l.npy";
  auto r = test::run_dsinfer("logits --model " + g.model_dir + " --ids " + join_ids(p.ids, p.ids.size()) + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(out, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string bytes = ss.str();
  ASSERT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const uint16_t hlen = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  const std::string header = bytes.substr(10, hlen);
  EXPECT_EQ((10 + hlen) % 64, 0u);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_NE(header.find("'fortran_order': False"), std::string::npos) << header;
  EXPECT_NE(header.find("'shape': (33, 2048)"), std::string::npos) << header;
  ASSERT_EQ(bytes.size(), 10 + hlen + p.logits.size() * 4);
  const float* data = reinterpret_cast<const float*>(bytes.data() + 10 + hlen);
  float worst = 0.f;
  for (size_t i = 0; i < p.logits.size(); ++i) worst = std::max(worst, std::fabs(data[i] - p.logits[i]));
  EXPECT_LE(worst, 1e-3);
  std::filesystem::remove_all(dir);
}

// logits --mtp: the MTP layer's rows [n - 1, vocab] against its float64 reference.
TEST(LogitsCli, MtpWritesTheMtpHeadsRows) {
  SafetensorsFile golden(test::data_path("golden/deepseek-r1-tiny.mtp.golden.safetensors"));
  const auto id64 = golden.tensors().at("p1.ids").as<int64_t>();
  const std::vector<int32_t> ids(id64.begin(), id64.end());
  const auto ref = golden.tensors().at("p1.mtp_logits").as<float>();
  const std::string dir = test::make_temp_dir("logits-mtp");
  const std::string out = dir + "/m.npy";
  auto r = test::run_dsinfer("logits --mtp --model " + test::data_path("deepseek-r1-tiny") + " --ids " +
                             join_ids(ids, ids.size()) + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(out, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string bytes = ss.str();
  const uint16_t hlen = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  EXPECT_NE(bytes.substr(10, hlen).find("'shape': (" + std::to_string(ids.size() - 1) + ", 2048)"), std::string::npos);
  ASSERT_EQ(bytes.size(), 10 + hlen + ref.size() * 4);
  const float* data = reinterpret_cast<const float*>(bytes.data() + 10 + hlen);
  float worst = 0.f;
  for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::fabs(data[i] - ref[i]));
  EXPECT_LE(worst, 1e-3);
  // A model without the layer is refused with exit 2, naming it.
  r = test::run_dsinfer("logits --mtp --model " + test::data_path("kimi-k2-tiny") + " --ids 1,2,3 --out " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no MTP layer"), std::string::npos) << r.output;
  std::filesystem::remove_all(dir);
}

TEST(GenerateCli, WritesPromptAndGreedyIds) {
  const auto& g = test::golden("kimi-k2-tiny");
  const auto& p = g.prompts[2];  // its golden margins stay clear for 32 steps
  const std::string dir = test::make_temp_dir("generate");
  const std::string out = dir + "/g.json";
  auto r = test::run_dsinfer("generate --model " + g.model_dir + " --ids " + join_ids(p.ids, p.ids.size()) +
                             " --max-new-tokens 12 --output-json " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(out);
  const auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["prompt_ids"].get<std::vector<int32_t>>(), p.ids);
  const auto gen = j["generated_ids"].get<std::vector<int32_t>>();
  EXPECT_EQ(gen, std::vector<int32_t>(p.gen_ids.begin(), p.gen_ids.begin() + 12));
  std::filesystem::remove_all(dir);
}

TEST(GenerateCli, StopAtEosEndsEarly) {
  // Declare the 4th golden token (clear margins on this prompt) as EOS in a
  // copy of the model: generation must stop right after emitting it.
  const auto& g = test::golden("deepseek-r1-tiny");
  const auto& p = g.prompts[3];
  const std::string dir = test::make_temp_dir("eos");
  const std::string model = dir + "/m";
  std::filesystem::copy(g.model_dir, model);
  nlohmann::json cfg = nlohmann::json::parse(std::ifstream(model + "/config.json"));
  cfg["eos_token_id"] = p.gen_ids[3];
  std::ofstream(model + "/config.json") << cfg.dump();
  const std::string ids = join_ids(p.ids, p.ids.size());
  auto stop = test::run_dsinfer("generate --model " + model + " --ids " + ids + " --max-new-tokens 20 --stop-at-eos");
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  EXPECT_EQ(nlohmann::json::parse(stop.output)["generated_ids"].get<std::vector<int32_t>>(),
            std::vector<int32_t>(p.gen_ids.begin(), p.gen_ids.begin() + 4));
  auto full = test::run_dsinfer("generate --model " + model + " --ids " + ids + " --max-new-tokens 20");
  ASSERT_EQ(full.exit_code, 0) << full.output;
  EXPECT_EQ(nlohmann::json::parse(full.output)["generated_ids"].size(), 20u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dsinfer

namespace dsinfer {
namespace {

nlohmann::json generate_json(const std::string& flags) {
  auto r = test::run_dsinfer("generate --model " + test::data_path("deepseek-r1-tiny") + " --ids 5,17,9,33 " + flags);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return nlohmann::json::parse(r.output);
}

TEST(GenerateCli, SeededSamplingRepeatsAndSeedsDiffer) {
  const std::string base = "--max-new-tokens 16 --temperature 1.2 --top-k 50 --no-pin --seed ";
  const auto a = generate_json(base + "11")["generated_ids"];
  EXPECT_EQ(generate_json(base + "11")["generated_ids"], a);
  EXPECT_NE(generate_json(base + "12")["generated_ids"], a);
  // Greedy by default: equal to temperature 0.
  EXPECT_EQ(generate_json("--max-new-tokens 8 --no-pin")["generated_ids"],
            generate_json("--max-new-tokens 8 --no-pin --temperature 0 --seed 3")["generated_ids"]);
}

TEST(GenerateCli, TopLogprobsAreWrittenMostLikelyFirst) {
  const auto j = generate_json("--max-new-tokens 4 --top-logprobs 3 --no-pin");
  ASSERT_EQ(j["logprobs"].size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const auto& t = j["logprobs"][i];
    EXPECT_EQ(t["id"], j["generated_ids"][i]);  // greedy: the chosen token is the most likely
    ASSERT_EQ(t["top_logprobs"].size(), 3u);
    EXPECT_EQ(t["top_logprobs"][0]["id"], t["id"]);
    EXPECT_GE(t["top_logprobs"][0]["logprob"].get<double>(), t["top_logprobs"][1]["logprob"].get<double>());
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
  }
}

TEST(GenerateCli, BadSamplingValueIsOneLineExitTwo) {
  auto r = test::run_dsinfer("generate --model " + test::data_path("deepseek-r1-tiny") +
                             " --ids 5,17 --temperature -1 --no-pin");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("temperature"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace dsinfer
