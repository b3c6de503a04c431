#pragma once
// Writing a result file without losing anything the user had: the bytes go
// to a temporary file beside the target and replace it by rename only once
// every write and the close succeeded (a full disk leaves the old file and
// exits 2). A symlink is written through (its target is replaced, the link
// stays); a device or FIFO is written in place (every write checked), never
// renamed over; a directory, or a file that is one of `inputs`, is refused.
#include <string>
#include <string_view>
#include <vector>

namespace dsinfer {

// `what` names the flag for messages (e.g. "--out").
void write_output_file(const std::string& path, std::string_view bytes, const std::string& what,
                       const std::vector<std::string>& inputs = {});

// The regular files of a model directory (its shards, config, tokenizer):
// what an output must never replace.
std::vector<std::string> model_input_files(const std::string& model_dir);

}  // namespace dsinfer
