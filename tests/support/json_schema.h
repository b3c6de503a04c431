#pragma once
// Validates a JSON value against the subset of JSON Schema (draft-07) that
// docs/*.schema.json use: type, required, properties, items, enum, minimum.
// Returns the list of violations (empty = valid), each with its JSON path.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dsinfer::test {

std::vector<std::string> schema_violations(const nlohmann::json& value, const nlohmann::json& schema,
                                           const std::string& path = "$");

}  // namespace dsinfer::test
