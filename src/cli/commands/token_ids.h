#pragma once
// Parsing of `--ids 5,17,9` lists given on the command line.
#include <cstdint>
#include <string>
#include <vector>

namespace dsinfer::cli {

// Throws Error naming the flag and the bad element.
std::vector<int32_t> parse_token_ids(const std::string& text, const std::string& flag);
// `--ids-file F`: ids separated by commas, spaces or newlines (a JSON list too),
// for prompts too long for a command line.
std::vector<int32_t> read_token_ids_file(const std::string& path, const std::string& flag);
// --ids or --ids-file, whichever was given (exactly one: the flags exclude each other).
std::vector<int32_t> token_ids_from(const std::string& ids, const std::string& ids_file);

}  // namespace dsinfer::cli
