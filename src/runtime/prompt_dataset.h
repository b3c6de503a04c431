#pragma once
// Prompt sets of the seed's offline run: `default` (one prompt in
// dataset/default_prompt.json repeated to fill the batch) and `LongBench`
// (local *.jsonl records whose `context` is wrapped in a summarisation
// prompt, the context truncated so the whole prompt fits input_max_len).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dsinfer {

struct PromptText {
  std::string prefix, context, suffix;  // context is the truncatable part (empty for default)
  std::string source;                   // where it came from, for messages ("file.jsonl:3 'context'")
  std::string whole() const { return prefix + context + suffix; }
};

struct DatasetRequest {
  std::string dataset = "default";  // default | LongBench
  std::string dataset_path;         // file (default) or folder (LongBench); empty: search defaults
  std::vector<std::string> search_roots;  // where relative default paths are looked up, in order
  int64_t batch_size = 1;
  int64_t max_new_tokens = 32;      // appears in the LongBench prompt
};

// Texts for the batch (records cycle to fill batch_size). Throws Error
// saying where to put the files when the dataset is missing.
std::vector<PromptText> load_prompt_texts(const DatasetRequest& request);

}  // namespace dsinfer
