#include "runtime/prompt_dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/error.h"
#include "io/strict_json.h"
#include "io/text_file.h"

namespace dsinfer {
namespace fs = std::filesystem;

namespace {

// First existing candidate of `rel` under the search roots (or rel itself).
std::string find_path(const std::string& rel, const std::vector<std::string>& roots, std::vector<std::string>& tried) {
  if (fs::path(rel).is_absolute()) {
    tried.push_back(rel);
    return fs::exists(rel) ? rel : "";
  }
  for (const auto& root : roots) {
    const auto p = (fs::path(root) / rel).lexically_normal().string();
    tried.push_back(p);
    if (fs::exists(p)) return p;
  }
  return "";
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::vector<PromptText> load_default(const DatasetRequest& r) {
  std::vector<std::string> tried;
  const std::string rel = r.dataset_path.empty() ? "dataset/default_prompt.json" : r.dataset_path;
  const std::string path = find_path(rel, r.search_roots, tried);
  if (path.empty())
    throw Error("dataset 'default': " + rel + " not found (looked in: " + join(tried) +
                "); put a JSON file {\"text\": \"<prompt>\"} there or set data_config.dataset_path");
  const nlohmann::json j = parse_json_strict(read_text_file(path, "dataset 'default'"), path);
  if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
    throw Error(path + ": expected an object with a string field 'text'");
  return std::vector<PromptText>(static_cast<size_t>(r.batch_size), PromptText{j["text"].get<std::string>(), "", "", path + " 'text'"});
}

std::vector<PromptText> load_longbench(const DatasetRequest& r) {
  std::vector<std::string> tried;
  const std::string rel = r.dataset_path.empty() ? "dataset/LongBench/data" : r.dataset_path;
  const std::string dir = find_path(rel, r.search_roots, tried);
  std::vector<fs::path> files;
  auto collect = [&](const fs::path& d) {
    std::error_code ec;
    if (d.empty() || !fs::is_directory(d, ec)) return;
    for (const auto& e : fs::directory_iterator(d, ec))
      if (e.path().extension() == ".jsonl") files.push_back(e.path());
  };
  collect(dir);
  // The LongBench folder as the recipe lays it out holds the files in data/.
  if (files.empty() && !dir.empty()) collect(fs::path(dir) / "data");
  std::sort(files.begin(), files.end());
  if (files.empty())
    throw Error("dataset 'LongBench': no *.jsonl files found (looked in: " + join(tried) +
                "); put the LongBench data files in dataset/LongBench/data/ or set data_config.dataset_path");
  const std::string prefix =
      "Please read a part of the book below, and then give me the summary.\n[start of the book]\n";
  const std::string suffix = "\n[end of the book]\n\nNow you have read it. Please summarize it for me. First, tell me "
                             "the title and the author, and then tell the story in " +
                             std::to_string(r.max_new_tokens) + " words.\n\n";
  std::vector<PromptText> out;
  for (const auto& f : files) {
    require_regular_file(f.string(), "dataset 'LongBench'");
    std::ifstream in(f);
    std::string line;
    for (int64_t lineno = 1; std::getline(in, line) && static_cast<int64_t>(out.size()) < r.batch_size; ++lineno) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const nlohmann::json j = parse_json_strict(line, f.string() + ":" + std::to_string(lineno));
      if (!j.is_object() || !j.contains("context") || !j["context"].is_string())
        throw Error(f.string() + ":" + std::to_string(lineno) + ": record has no string field 'context'");
      out.push_back(PromptText{prefix, j["context"].get<std::string>(), suffix,
                               f.string() + ":" + std::to_string(lineno) + " 'context'"});
    }
  }
  if (out.empty()) throw Error("dataset 'LongBench': the files in " + dir + " hold no records");
  // Records cycle to fill the batch.
  for (size_t i = 0; static_cast<int64_t>(out.size()) < r.batch_size; ++i) out.push_back(out[i]);
  return out;
}

}  // namespace

std::vector<PromptText> load_prompt_texts(const DatasetRequest& r) {
  if (r.dataset == "default") return load_default(r);
  if (r.dataset == "LongBench") return load_longbench(r);
  throw Error("data_config.dataset: unsupported dataset '" + r.dataset + "' (default or LongBench)");
}

}  // namespace dsinfer
