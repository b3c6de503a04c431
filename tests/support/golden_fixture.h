#pragma once
// A parameterized fixture over the tiny golden checkpoints: loads the model
// and its reference outputs once per test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "model/deepseek_model.h"
#include "runtime/load_model.h"
#include "support/golden.h"

namespace dsinfer::test {

inline float max_abs_diff(const float* a, const float* b, int64_t n) {
  float m = 0.f;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  return max_abs_diff(a.data(), b.data(), static_cast<int64_t>(std::min(a.size(), b.size())));
}

class GoldenModelTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    g_ = &golden(GetParam());
    model_ = load_model(g_->model_dir);
  }
  const Golden* g_ = nullptr;
  std::unique_ptr<DeepseekModel> model_;
};

// Test-name suffix for a checkpoint name ("deepseek-r1-tiny" -> "deepseek_r1_tiny").
inline std::string checkpoint_param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

}  // namespace dsinfer::test
