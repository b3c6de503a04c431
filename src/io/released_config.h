#pragma once
// The config.json files of the released DeepSeek-R1 and Kimi-K2 checkpoints,
// shipped in assets/, so random-weight models (demo, benchmarks) start from
// the real architecture instead of a hand-copied list of dimensions.
#include <nlohmann/json.hpp>
#include <string>

namespace dsinfer {

// family: "deepseek-r1" or "kimi-k2". Throws Error naming the file if absent.
nlohmann::json released_config(const std::string& family);
std::string asset_dir();  // <source tree>/assets

}  // namespace dsinfer
