#include "io/released_config.h"

#include <fstream>

#include "io/error.h"

namespace dsinfer {

std::string asset_dir() { return std::string(DSINFER_SOURCE_DIR) + "/assets"; }

nlohmann::json released_config(const std::string& family) {
  const std::string path = asset_dir() + "/" + family + "/config.json";
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open released config (unknown family '" + family + "'?)");
  try {
    auto j = nlohmann::json::parse(in);
    j.erase("quantization_config");  // writers of random checkpoints set their own
    j.erase("auto_map");
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed JSON: " + e.what());
  }
}

}  // namespace dsinfer
