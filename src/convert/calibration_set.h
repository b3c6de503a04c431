#pragma once
// The token sequences C8 calibration runs the model over: a JSONL file the
// user gives, the built-in texts, or seeded random ids. Separate from the
// calibration itself so its reader can be fuzzed without the model.
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace dsinfer::convert {

struct CalibrationSet {
  std::vector<std::vector<int32_t>> sequences;
  std::string source;  // for the log
};

// JSONL, one object per line with an "ids" array of token ids < vocab, or a
// "text" string when a tokenizer is given (the model directory's).
CalibrationSet read_calibration_jsonl(const std::string& path, int64_t vocab, const Tokenizer* tokenizer = nullptr);
// Built-in calibration texts (prose, dialogue, code, math, Chinese) rendered
// as chat turns with the model's template when it has one, then tokenized.
CalibrationSet builtin_text_calibration_set(const Tokenizer& tokenizer, int64_t vocab);
// Seeded pseudo-random token ids (deterministic across platforms): for model
// directories without tokenizer files, like the tiny test checkpoints.
CalibrationSet random_calibration_set(int64_t vocab, int64_t n_sequences = 8, int64_t length = 128,
                                      uint64_t seed = 20251128);

}  // namespace dsinfer::convert
