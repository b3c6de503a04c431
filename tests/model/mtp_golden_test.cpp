// The MTP layer against the float64 reference of ../shared/golden
// (deepseek-r1-tiny.mtp.golden.safetensors): teacher-forced logits of
// model.layers.3 (embed_tokens, enorm/hnorm, eh_proj, one decoder block,
// shared_head) at every position, FP8 weights, fp32 compute.
#include <gtest/gtest.h>

#include <cstdio>

#include "io/error.h"
#include "io/safetensors.h"
#include "runtime/generation.h"
#include "runtime/load_model.h"
#include "support/golden_fixture.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {

TEST(MtpGolden, LogitsMatchTheReferenceAtEveryPosition) {
  auto model = load_model(test::data_path("deepseek-r1-tiny"), ComputePrecision::Float32);
  ASSERT_TRUE(model->has_mtp());
  SafetensorsFile f(test::data_path("golden/deepseek-r1-tiny.mtp.golden.safetensors"));
  const auto& t = f.tensors();
  int checked = 0;
  for (size_t i = 0; t.count("p" + std::to_string(i) + ".ids"); ++i) {
    const std::string p = "p" + std::to_string(i);
    const auto id64 = t.at(p + ".ids").as<int64_t>();
    const std::vector<int32_t> ids(id64.begin(), id64.end());
    const auto ref = t.at(p + ".mtp_logits").as<float>();
    const auto logits = mtp_prompt_logits(*model, ids, GenerationOptions{.page_size = 16});  // spans pages
    ASSERT_EQ(logits.size(), ref.size()) << p;
    const float d = test::max_abs_diff(logits.data(), ref.data(), static_cast<int64_t>(ref.size()));
    EXPECT_LE(d, 1e-3) << p << " (" << ids.size() << " ids)";
    std::printf("[mtp golden] %s len %zu: max|logit diff| = %.3g\n", p.c_str(), ids.size(), d);
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

TEST(MtpGolden, ModelWithoutTheLayerSaysSo) {
  auto model = load_model(test::data_path("kimi-k2-tiny"), ComputePrecision::Float32);
  EXPECT_FALSE(model->has_mtp());
  try {
    mtp_prompt_logits(*model, {1, 2, 3});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no MTP layer"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dsinfer
