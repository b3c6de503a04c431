#pragma once
// JSON as dsinfer accepts it from files and requests: at most
// kMaxJsonDepth levels of nesting (every legitimate file has a handful; a
// hostile one with 70k levels must not reach a recursive printer) and no
// key twice in one object (last-wins would silently pick one of them).
// Errors name `what` and the key, never print the unbounded value.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace dsinfer {

inline constexpr int kMaxJsonDepth = 128;

// Throws Error("<what>: ...") on invalid JSON, nesting deeper than
// kMaxJsonDepth or a duplicate key.
nlohmann::json parse_json_strict(std::string_view text, const std::string& what);
nlohmann::ordered_json parse_ordered_json_strict(std::string_view text, const std::string& what);

// A JSON value for an error message: its dump cut to at most `limit` bytes.
std::string json_excerpt(const nlohmann::json& value, size_t limit = 80);

}  // namespace dsinfer
