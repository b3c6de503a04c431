#pragma once
// The parts of a model directory's tokenizer_config.json the tokenizers use.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/chat_template.h"

namespace dsinfer {

struct TokenizerConfig {
  bool present = false;                    // false when the file is absent
  std::optional<std::string> chat_template;  // Jinja source, if any
  std::optional<std::string> bos_token, eos_token;
  // added_tokens_decoder: (id, content), sorted by id.
  std::vector<std::pair<int32_t, std::string>> added_tokens;
};

// Reads <model_dir>/tokenizer_config.json (and chat_template.jinja when the
// config has no inline template). A missing config gives present == false;
// a malformed one throws Error naming the file and field.
TokenizerConfig read_tokenizer_config(const std::string& model_dir);

}  // namespace dsinfer
