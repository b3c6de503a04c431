// Converted tensors bit for bit: bfloat16 against the golden bf16_sha256
// (DeepSeek's reference cast), int8 weights and scales against the seed's
// arithmetic recomputed here from the FP8 input, everything else unchanged.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "convert/conversion_plan.h"
#include "convert_fixtures.h"
#include "io/model_config.h"
#include "io/safetensors.h"

namespace dsinfer {
namespace {
using convert::QuantMode;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::map<std::string, std::string> golden_sha(const std::string& model) {
  std::ifstream in(test::data_path("golden/" + model + ".golden.json"));
  const auto j = nlohmann::json::parse(in);
  return j["bf16_sha256"].get<std::map<std::string, std::string>>();
}

// --- An independent model of the seed's arithmetic (no engine helpers). ---
float fp8_value(uint8_t v) {
  const int e = (v >> 3) & 15, m = v & 7;
  const float mag = e == 0 ? std::ldexp(float(m), -9) : std::ldexp(float(8 + m), e - 10);
  return (v & 0x80) ? -mag : mag;
}
float to_bf16(float f) {  // float32 -> bfloat16 -> float32, nearest even (finite inputs)
  uint32_t b;
  std::memcpy(&b, &f, 4);
  const uint32_t low = b & 0xffffu;
  uint32_t high = b >> 16;
  if (low > 0x8000u || (low == 0x8000u && (high & 1u))) ++high;
  b = high << 16;
  std::memcpy(&f, &b, 4);
  return f;
}
float round_half_even(float x) {
  const float f = std::floor(x), frac = x - f;
  if (frac != 0.5f) return frac < 0.5f ? f : f + 1.f;
  return std::fmod(f, 2.f) == 0.f ? f : f + 1.f;
}

struct Int8Row {
  std::vector<int8_t> q;
  float scale;
};
Int8Row seed_int8_row(const TensorView& w, const TensorView& sinv, int64_t r) {
  const int64_t cols = w.shape[1];
  const int64_t scols = sinv.shape[1];
  std::vector<float> row(cols);
  float amax = 0.f;
  for (int64_t c = 0; c < cols; ++c) {
    row[c] = to_bf16(fp8_value(w.data[r * cols + c]) * sinv.as<float>()[(r / 128) * scols + c / 128]);
    amax = std::max(amax, std::fabs(row[c]));
  }
  Int8Row out{std::vector<int8_t>(cols), to_bf16(amax / 127.f)};
  for (int64_t c = 0; c < cols; ++c)
    out.q[c] = static_cast<int8_t>(std::clamp(round_half_even(to_bf16(row[c] / out.scale)), -127.f, 127.f));
  return out;
}

class Exactness : public ::testing::TestWithParam<std::string> {};

TEST_P(Exactness, Bfloat16MatchesGoldenShaAndCopiesTheRest) {
  const std::string model = GetParam();
  const Checkpoint in(test::data_path(model));
  const Checkpoint out(test::converted_checkpoint(model, QuantMode::Bfloat16));
  const auto sha = golden_sha(model);
  size_t converted = 0, copied = 0;
  for (const auto& name : in.names()) {
    const TensorView& t = in.get(name);
    if (ends_with(name, "_scale_inv")) {
      EXPECT_FALSE(out.has(name)) << name;
      continue;
    }
    const TensorView& o = out.get(name);
    EXPECT_EQ(o.shape, t.shape) << name;
    if (t.dtype == DType::F8_E4M3) {
      ASSERT_EQ(o.dtype, DType::BF16) << name;
      ASSERT_TRUE(sha.count(name)) << name;
      EXPECT_EQ(test::sha256_hex(o.data, o.nbytes), sha.at(name)) << name;
      ++converted;
    } else {
      ASSERT_EQ(o.dtype, t.dtype) << name;
      ASSERT_EQ(o.nbytes, t.nbytes) << name;
      EXPECT_EQ(std::memcmp(o.data, t.data, t.nbytes), 0) << name << " not byte-identical";
      ++copied;
    }
  }
  EXPECT_EQ(converted, sha.size());
  EXPECT_EQ(out.names().size(), converted + copied);  // nothing extra
  std::printf("[convert] %s bfloat16: %zu tensors match golden bf16_sha256, %zu copied byte-identical\n",
              model.c_str(), converted, copied);
  const auto cfg = load_model_config(out.dir());
  EXPECT_EQ(cfg.quant.weights, WeightQuant::None);
}

void check_w8a8(const std::string& model, QuantMode mode) {
  const Checkpoint in(test::data_path(model));
  const Checkpoint out(test::converted_checkpoint(model, mode));
  const auto sha = golden_sha(model);
  size_t int8_tensors = 0, bf16_kept = 0, copied = 0;
  for (const auto& name : in.names()) {
    const TensorView& t = in.get(name);
    if (ends_with(name, "_scale_inv")) {
      EXPECT_FALSE(out.has(name)) << name;
      continue;
    }
    const TensorView& o = out.get(name);
    const std::string module = name.substr(0, name.size() - 7);
    if (t.dtype == DType::F8_E4M3 && !convert::kept_in_bf16(module)) {
      ASSERT_EQ(o.dtype, DType::I8) << name;
      const TensorView& s = out.get(module + ".weight_scale");
      ASSERT_EQ(s.dtype, DType::F32);
      ASSERT_EQ(s.shape, (std::vector<int64_t>{t.shape[0], 1})) << s.name;
      const TensorView& sinv = in.get(name + "_scale_inv");
      for (int64_t r = 0; r < t.shape[0]; ++r) {
        const Int8Row ref = seed_int8_row(t, sinv, r);
        ASSERT_EQ(std::memcmp(&s.as<float>()[r], &ref.scale, 4), 0) << s.name << " row " << r;
        ASSERT_EQ(std::memcmp(o.data + r * t.shape[1], ref.q.data(), ref.q.size()), 0) << name << " row " << r;
      }
      ++int8_tensors;
    } else if (t.dtype == DType::F8_E4M3) {
      // Ignored FP8 modules (kv_b_proj) are the reference bf16 cast.
      ASSERT_EQ(o.dtype, DType::BF16) << name;
      EXPECT_EQ(test::sha256_hex(o.data, o.nbytes), sha.at(name)) << name;
      EXPECT_FALSE(out.has(module + ".weight_scale")) << name;
      ++bf16_kept;
    } else {
      ASSERT_EQ(o.dtype, t.dtype) << name;
      EXPECT_EQ(std::memcmp(o.data, t.data, t.nbytes), 0) << name << " not byte-identical";
      ++copied;
    }
  }
  EXPECT_GT(int8_tensors, 0u);
  EXPECT_GT(bf16_kept, 0u);
  std::printf("[convert] %s %s: %zu int8 weights+scales bit-identical to the recomputation, %zu FP8 kept bf16 "
              "(golden sha), %zu copied\n",
              model.c_str(), convert::quant_mode_name(mode), int8_tensors, bf16_kept, copied);

  const auto cfg = load_model_config(out.dir());
  EXPECT_EQ(cfg.quant.weights, WeightQuant::Int8Channel);
  EXPECT_EQ(cfg.quant.kv_cache_int8, mode == QuantMode::W8A8C8);
  // The ignore list names every bf16-kept Linear, lm_head and the routers included.
  for (const auto& m : cfg.quant.ignore) EXPECT_TRUE(convert::kept_in_bf16(m)) << m;
  EXPECT_NE(std::find(cfg.quant.ignore.begin(), cfg.quant.ignore.end(), "lm_head"), cfg.quant.ignore.end());
  EXPECT_NE(std::find(cfg.quant.ignore.begin(), cfg.quant.ignore.end(), "model.layers.0.self_attn.kv_b_proj"),
            cfg.quant.ignore.end());
  if (mode == QuantMode::W8A8C8)
    for (int64_t l = 0; l < cfg.num_hidden_layers; ++l) {
      const TensorView& s = out.get("model.layers." + std::to_string(l) + ".self_attn.ckv_scale");
      EXPECT_EQ(s.dtype, DType::F32);
      EXPECT_EQ(s.shape, std::vector<int64_t>{1});
      EXPECT_GT(s.as<float>()[0], 0.f);
    }
}

TEST_P(Exactness, W8A8C16Int8WeightsAndScalesAreTheSeedsArithmetic) { check_w8a8(GetParam(), QuantMode::W8A8C16); }
TEST_P(Exactness, W8A8C8Int8WeightsAndScalesAreTheSeedsArithmetic) { check_w8a8(GetParam(), QuantMode::W8A8C8); }

TEST_P(Exactness, OutputKeepsShardNamesIndexAndSideFiles) {
  const std::string model = GetParam();
  namespace fs = std::filesystem;
  for (QuantMode mode : {QuantMode::Bfloat16, QuantMode::W8A8C16}) {
    const std::string dir = test::converted_checkpoint(model, mode);
    std::ifstream in_idx(test::data_path(model) + "/model.safetensors.index.json");
    std::ifstream out_idx(dir + "/model.safetensors.index.json");
    const auto a = nlohmann::json::parse(in_idx), b = nlohmann::json::parse(out_idx);
    const Checkpoint out(dir);
    size_t total = 0;
    for (const auto& name : out.names()) total += out.get(name).nbytes;
    EXPECT_EQ(b["metadata"]["total_size"].get<size_t>(), total);
    // Every input tensor that survives stays in the shard of the same name.
    for (auto it = b["weight_map"].begin(); it != b["weight_map"].end(); ++it) {
      const std::string n = it.key();
      const std::string src = a["weight_map"].contains(n) ? n : n.substr(0, n.size() - 6) + "_scale_inv";  // weight_scale
      ASSERT_TRUE(a["weight_map"].contains(src)) << n;
      EXPECT_EQ(it.value(), a["weight_map"][src]) << n;
      EXPECT_TRUE(fs::exists(fs::path(dir) / it.value().get<std::string>()));
    }
  }
}

TEST(ExactnessSideFiles, TokenizerAndGenerationConfigAreCopied) {
  namespace fs = std::filesystem;
  const std::string in = test::scratch_dir("side") + "/in";
  fs::create_directories(in);
  for (const auto& e : fs::directory_iterator(test::data_path("kimi-k2-tiny"))) fs::copy(e.path(), in / e.path().filename());
  test::write_text(in + "/tokenizer_config.json", "{\"x\": 1}");
  test::write_text(in + "/generation_config.json", "{\"y\": 2}");
  test::write_text(in + "/tiktoken.model", "abc");
  test::write_text(in + "/tokenization_kimi.py", "# code");
  convert::ConvertOptions o;
  o.input_dir = in;
  o.output_dir = test::scratch_dir("side") + "/out";
  o.progress = convert::ProgressStyle::Quiet;
  convert::convert_checkpoint(o);
  for (const char* f : {"tokenizer_config.json", "generation_config.json", "tiktoken.model", "tokenization_kimi.py"})
    EXPECT_TRUE(fs::exists(fs::path(o.output_dir) / f)) << f;
}

INSTANTIATE_TEST_SUITE_P(Tiny, Exactness, ::testing::Values("deepseek-r1-tiny", "kimi-k2-tiny"), [](const auto& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

}  // namespace
}  // namespace dsinfer
