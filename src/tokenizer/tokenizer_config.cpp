#include "tokenizer/tokenizer_config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/error.h"
#include "io/strict_json.h"
#include "io/text_file.h"

namespace dsinfer {
namespace {

// bos_token/eos_token are either a string or an AddedToken object {content: ...}.
std::optional<std::string> token_content(const nlohmann::json& j, const char* key, const std::string& path) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  const auto& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  throw Error(path + ": field '" + key + "' must be a string or an object with a string 'content'");
}

}  // namespace

TokenizerConfig read_tokenizer_config(const std::string& model_dir) {
  TokenizerConfig cfg;
  const std::string path = (std::filesystem::path(model_dir) / "tokenizer_config.json").string();
  if (!std::filesystem::exists(path)) return cfg;
  cfg.present = true;
  const nlohmann::json j = parse_json_strict(read_text_file(path), path);
  if (!j.is_object()) throw Error(path + ": expected a JSON object at top level");

  if (j.contains("chat_template") && !j["chat_template"].is_null()) {
    const auto& t = j["chat_template"];
    if (t.is_string()) {
      cfg.chat_template = t.get<std::string>();
    } else if (t.is_array()) {
      // Named templates: [{"name": "default", "template": "..."}, ...].
      for (const auto& item : t)
        if (item.is_object() && item.value("name", "") == "default" && item.contains("template") &&
            item["template"].is_string())
          cfg.chat_template = item["template"].get<std::string>();
    } else {
      throw Error(path + ": field 'chat_template' must be a string or a list of named templates");
    }
  }
  const auto jinja = std::filesystem::path(model_dir) / "chat_template.jinja";
  if (!cfg.chat_template && std::filesystem::exists(jinja)) cfg.chat_template = read_text_file(jinja.string());

  cfg.bos_token = token_content(j, "bos_token", path);
  cfg.eos_token = token_content(j, "eos_token", path);

  if (j.contains("added_tokens_decoder")) {
    const auto& d = j["added_tokens_decoder"];
    if (!d.is_object()) throw Error(path + ": field 'added_tokens_decoder' must be an object");
    for (const auto& [key, value] : d.items()) {
      const std::string where = path + ": added_tokens_decoder[\"" + key + "\"]";
      int64_t id = -1;
      try {
        size_t used = 0;
        id = std::stoll(key, &used);
        if (used != key.size()) id = -1;
      } catch (const std::exception&) {
      }
      if (id < 0 || id > INT32_MAX) throw Error(where + ": key is not a token id");
      if (!value.is_object() || !value.contains("content") || !value["content"].is_string())
        throw Error(where + ": needs a string 'content'");
      const std::string content = value["content"].get<std::string>();
      if (content.empty()) throw Error(where + ": empty 'content'");
      cfg.added_tokens.emplace_back(static_cast<int32_t>(id), content);
    }
    std::sort(cfg.added_tokens.begin(), cfg.added_tokens.end());
  }
  return cfg;
}

}  // namespace dsinfer
