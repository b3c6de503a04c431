#include "io/strict_json.h"

#include <unordered_set>
#include <vector>

#include "io/error.h"

namespace dsinfer {
namespace {

std::string cut(std::string s, size_t limit) {
  if (s.size() <= limit) return s;
  s.resize(limit);
  return s + "...";
}

template <class Json>
Json parse_strict(std::string_view text, const std::string& what) {
  std::vector<std::unordered_set<std::string>> keys;  // one set per open object
  auto check = [&](int depth, nlohmann::detail::parse_event_t event, Json& parsed) {
    using E = nlohmann::detail::parse_event_t;
    if ((event == E::object_start || event == E::array_start) && depth >= kMaxJsonDepth)
      throw Error(what + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    if (event == E::object_start) keys.emplace_back();
    if (event == E::object_end && !keys.empty()) keys.pop_back();
    if (event == E::key && !keys.empty()) {
      const std::string& k = parsed.template get_ref<const std::string&>();
      if (!keys.back().insert(k).second) throw Error(what + ": duplicate key \"" + cut(k, 80) + "\" in one object");
    }
    return true;
  };
  try {
    return Json::parse(text.begin(), text.end(), check);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number past double
    throw Error(what + ": malformed JSON: " + cut(e.what(), 200));
  }
}

}  // namespace

nlohmann::json parse_json_strict(std::string_view text, const std::string& what) {
  return parse_strict<nlohmann::json>(text, what);
}

nlohmann::ordered_json parse_ordered_json_strict(std::string_view text, const std::string& what) {
  return parse_strict<nlohmann::ordered_json>(text, what);
}

std::string json_excerpt(const nlohmann::json& value, size_t limit) {
  // A value parsed here is at most kMaxJsonDepth deep, so dump() is bounded in recursion.
  return cut(value.dump(), limit);
}

}  // namespace dsinfer
