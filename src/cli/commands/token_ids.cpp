#include "cli/commands/token_ids.h"

#include <charconv>

#include "io/error.h"
#include "io/text_file.h"

namespace dsinfer::cli {

std::vector<int32_t> parse_token_ids(const std::string& text, const std::string& flag) {
  std::vector<int32_t> ids;
  size_t start = 0;
  if (text.find_first_not_of(" \t") == std::string::npos) throw Error(flag + ": empty prompt (no token ids)");
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    const size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    item = a == std::string::npos ? "" : item.substr(a, b - a + 1);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size() || v < 0 || v > INT32_MAX)
      throw Error(flag + ": '" + (item.size() > 40 ? item.substr(0, 40) + "..." : item) + "' is not a valid token id");
    ids.push_back(static_cast<int32_t>(v));
    start = end + 1;
  }
  return ids;
}

std::vector<int32_t> read_token_ids_file(const std::string& path, const std::string& flag) {
  std::string text = read_text_file(path, flag);
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t' || c == '[' || c == ']') c = ' ';
  // Separators: commas, or runs of spaces between ids.
  std::string csv;
  bool pending = false;
  for (char c : text) {
    if (c == ' ' || c == ',') {
      pending = pending || !csv.empty();
      continue;
    }
    if (pending) csv += ',';
    pending = false;
    csv += c;
  }
  return parse_token_ids(csv, flag + " " + path);
}

std::vector<int32_t> token_ids_from(const std::string& ids, const std::string& ids_file) {
  if (!ids_file.empty()) return read_token_ids_file(ids_file, "--ids-file");
  if (ids.find_first_not_of(" \t") == std::string::npos)
    throw Error("--ids: empty prompt (no token ids; give them with --ids or --ids-file)");
  return parse_token_ids(ids, "--ids");
}

}  // namespace dsinfer::cli
