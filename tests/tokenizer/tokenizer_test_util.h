#pragma once
// Shared by the tokenizer tests: tokenizers loaded once per test binary (the
// DeepSeek tokenizer.json takes a moment to parse) and the golden file.
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/test_support.h"
#include "tokenizer/tokenizer.h"

namespace dsinfer::test {

// tests/data/tokenizers/<name>: deepseek-v3, deepseek-r1 or kimi-k2.
inline std::string tokenizer_dir(const std::string& name) { return data_path("tokenizers/" + name); }

inline const Tokenizer& shared_tokenizer(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = cache[name];
  if (!slot) slot = load_tokenizer(tokenizer_dir(name));
  return *slot;
}

inline const nlohmann::json& tokenizer_golden() {
  static const nlohmann::json golden = [] {
    std::ifstream f(data_path("golden/tokenizers.golden.json"));
    return nlohmann::json::parse(f);
  }();
  return golden;
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace dsinfer::test
