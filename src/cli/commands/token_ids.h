#pragma once
// Parsing of `--ids 5,17,9` lists given on the command line.
#include <cstdint>
#include <string>
#include <vector>

namespace dsinfer::cli {

// Throws Error naming the flag and the bad element.
std::vector<int32_t> parse_token_ids(const std::string& text, const std::string& flag);

}  // namespace dsinfer::cli
