#include "support/json_schema.h"

namespace dsinfer::test {
namespace {

bool has_type(const nlohmann::json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return v.is_number_integer();
  if (type == "number") return v.is_number();
  if (type == "null") return v.is_null();
  return false;
}

}  // namespace

std::vector<std::string> schema_violations(const nlohmann::json& v, const nlohmann::json& s, const std::string& path) {
  std::vector<std::string> out;
  auto add = [&](const std::vector<std::string>& more) { out.insert(out.end(), more.begin(), more.end()); };
  if (s.contains("type") && !has_type(v, s["type"].get<std::string>())) {
    out.push_back(path + ": expected " + s["type"].get<std::string>() + ", got " + v.type_name());
    return out;
  }
  if (s.contains("enum")) {
    bool found = false;
    for (const auto& e : s["enum"]) found = found || e == v;
    if (!found) out.push_back(path + ": " + v.dump() + " not in " + s["enum"].dump());
  }
  if (s.contains("minimum") && v.is_number() && v.get<double>() < s["minimum"].get<double>())
    out.push_back(path + ": " + v.dump() + " < minimum " + s["minimum"].dump());
  if (v.is_object()) {
    if (s.contains("required"))
      for (const auto& k : s["required"])
        if (!v.contains(k.get<std::string>())) out.push_back(path + ": missing required '" + k.get<std::string>() + "'");
    if (s.contains("properties"))
      for (auto it = s["properties"].begin(); it != s["properties"].end(); ++it)
        if (v.contains(it.key())) add(schema_violations(v[it.key()], it.value(), path + "." + it.key()));
  }
  if (v.is_array() && s.contains("items"))
    for (size_t i = 0; i < v.size(); ++i) add(schema_violations(v[i], s["items"], path + "[" + std::to_string(i) + "]"));
  return out;
}

}  // namespace dsinfer::test
