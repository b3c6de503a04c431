#include "io/released_config.h"

#include <filesystem>
#include <fstream>

#include "io/error.h"
#include "io/strict_json.h"
#include "io/text_file.h"

namespace dsinfer {

std::string asset_dir() { return std::string(DSINFER_SOURCE_DIR) + "/assets"; }

nlohmann::json released_config(const std::string& family) {
  const std::string path = asset_dir() + "/" + family + "/config.json";
  if (!std::filesystem::exists(path))
    throw Error(path + ": cannot open released config (unknown family '" + family + "'?)");
  auto j = parse_json_strict(read_text_file(path), path);
  j.erase("quantization_config");  // writers of random checkpoints set their own
  j.erase("auto_map");
  return j;
}

}  // namespace dsinfer
