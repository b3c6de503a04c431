#pragma once
// Access to the Hugging Face reference outputs in tests/data/golden.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace dsinfer::test {

struct GoldenPrompt {
  std::vector<int32_t> ids;
  std::vector<int32_t> gen_ids;
  std::vector<float> logits;      // [ids.size(), vocab]
  std::vector<float> gen_logits;  // [gen_ids.size(), vocab]
  double min_margin = 0.0;
};

struct Golden {
  std::string model_dir;
  int64_t vocab = 0;
  std::vector<GoldenPrompt> prompts;
};

// name: "deepseek-r1-tiny" or "kimi-k2-tiny".
const Golden& golden(const std::string& name);

}  // namespace dsinfer::test
