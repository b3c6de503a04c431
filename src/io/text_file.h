#pragma once
// Reading the small files dsinfer is given (config.json, the index, YAML,
// tokenizer files, datasets): only regular files are opened, so a FIFO, a
// device or a directory in their place is refused instead of blocking or
// reading forever.
#include <string>

namespace dsinfer {

// Throws Error naming `path` (and `what`, e.g. "config.json") when it is
// missing, unreadable or not a regular file.
std::string read_text_file(const std::string& path, const std::string& what = "");
// The same check for a file that is then opened another way (mmap).
void require_regular_file(const std::string& path, const std::string& what = "");

}  // namespace dsinfer
