#include "convert/calibration_set.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "io/error.h"
#include "io/strict_json.h"
#include "io/text_file.h"

namespace dsinfer::convert {

namespace {

std::vector<int32_t> checked_ids(std::vector<int32_t> ids, int64_t vocab, const std::string& where) {
  for (int32_t id : ids)
    if (id < 0 || id >= vocab)
      throw Error(where + ": token id " + std::to_string(id) + " is not in [0, " + std::to_string(vocab) + ")");
  if (ids.empty()) throw Error(where + ": encodes to no tokens");
  constexpr size_t kMaxTokens = 2048;  // bound the calibration forward
  if (ids.size() > kMaxTokens) ids.resize(kMaxTokens);
  return ids;
}

}  // namespace

CalibrationSet read_calibration_jsonl(const std::string& path, int64_t vocab, const Tokenizer* tokenizer) {
  require_regular_file(path, "calibration data");
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open calibration data");
  CalibrationSet set;
  set.source = path;
  std::string line;
  for (int64_t lineno = 1; std::getline(in, line); ++lineno) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(lineno);
    const nlohmann::json j = parse_json_strict(line, where);
    if (j.is_object() && !j.contains("ids") && j.contains("text") && j["text"].is_string()) {
      if (!tokenizer)
        throw Error(where + ": a \"text\" record needs the model's tokenizer files (none in the input directory); "
                            "give an \"ids\" array instead");
      set.sequences.push_back(checked_ids(tokenizer->encode(j["text"].get<std::string>()), vocab, where));
      continue;
    }
    if (!j.is_object() || !j.contains("ids")) throw Error(where + ": needs an \"ids\" array or a \"text\" string");
    if (!j["ids"].is_array() || j["ids"].empty()) throw Error(where + ": \"ids\" must be a non-empty array");
    std::vector<int32_t> ids;
    for (const auto& v : j["ids"]) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= vocab)
        throw Error(where + ": token id " + v.dump() + " is not in [0, " + std::to_string(vocab) + ")");
      ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
    }
    set.sequences.push_back(checked_ids(std::move(ids), vocab, where));  // same length bound as text
  }
  if (set.sequences.empty()) throw Error(path + ": no calibration sequences");
  return set;
}

CalibrationSet builtin_text_calibration_set(const Tokenizer& tokenizer, int64_t vocab) {
  static const char* const kTexts[] = {
      "Explain how a mixture-of-experts transformer routes each token to a few experts, and why this keeps the "
      "cost per token low while the total number of parameters is very large.",
      "Write a short story about a lighthouse keeper who finds a message in a bottle written in a language nobody "
      "on the island can read.",
      "def merge_sorted(a, b):\n    out = []\n    i = j = 0\n    while i < len(a) and j < len(b):\n"
      "        if a[i] <= b[j]:\n            out.append(a[i]); i += 1\n        else:\n"
      "            out.append(b[j]); j += 1\n    return out + a[i:] + b[j:]\n\nExplain the complexity of this function.",
      "Solve for x: 3x^2 - 12x + 9 = 0. Show each step, then check both roots by substitution.",
      "请用中文解释什么是注意力机制，并举一个机器翻译中的例子说明它的作用。",
      "Summarize the causes and consequences of the invention of the printing press in Europe in the fifteenth "
      "century, in three paragraphs.",
      "My program crashes with a segmentation fault when I free a pointer twice. Why does that happen, and how "
      "do tools like AddressSanitizer find it?",
      "List ten prime numbers greater than one hundred and explain how you verified that each of them is prime.",
  };

  CalibrationSet set;
  set.source = "built-in calibration texts (" + std::to_string(std::size(kTexts)) + " prompts, model tokenizer)";
  for (const char* text : kTexts) {
    std::vector<int32_t> ids = tokenizer.chat_format() ? encode_chat(tokenizer, {{"user", text}}, true)
                                                       : tokenizer.encode(text);
    set.sequences.push_back(checked_ids(std::move(ids), vocab, "built-in calibration text"));
  }
  return set;
}

CalibrationSet random_calibration_set(int64_t vocab, int64_t n_sequences, int64_t length, uint64_t seed) {
  CalibrationSet set;
  set.source = std::to_string(n_sequences) + " x " + std::to_string(length) + " seeded pseudo-random token ids";
  std::mt19937_64 gen(seed);  // mt19937_64's output is fixed by the standard; modulo keeps it portable
  for (int64_t s = 0; s < n_sequences; ++s) {
    std::vector<int32_t> ids(static_cast<size_t>(length));
    for (auto& id : ids) id = static_cast<int32_t>(gen() % static_cast<uint64_t>(vocab));
    set.sequences.push_back(std::move(ids));
  }
  return set;
}

}  // namespace dsinfer::convert
