#pragma once
// Random-weight checkpoints generated on first use into a cache directory
// (for `with_ckpt: false` and the built-in demo), in the exact FP8 release
// layout so the real loading path runs. Each directory is labelled with a
// RANDOM_WEIGHTS.txt file and reused while its config is unchanged.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dsinfer {

// $DSINFER_CACHE_DIR, else $XDG_CACHE_HOME/dsinfer, else ~/.cache/dsinfer.
std::string dsinfer_cache_dir();

// Returns the directory of a random checkpoint for `config` (generating it
// if absent); `extra_files` (tokenizer files...) are copied in beside it.
std::string ensure_random_checkpoint(const nlohmann::json& config, const std::string& label,
                                     const std::vector<std::string>& extra_files, uint64_t seed = 0);

// Whether a model directory is one of these generated random checkpoints.
bool is_random_checkpoint(const std::string& model_dir);

// A DeepSeek-R1-shaped config small enough for a 2-core demo: R1's vocabulary
// (real tokenizer), head dimensions, latent sizes and routing structure, with
// fewer/narrower layers and experts.
nlohmann::json demo_r1_config();

}  // namespace dsinfer
