#include "convert/output_metadata.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/error.h"

namespace dsinfer::convert {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

ordered_json int8_scheme(const char* strategy, bool dynamic) {
  return {{"num_bits", 8}, {"type", "int"}, {"strategy", strategy}, {"dynamic", dynamic}, {"symmetric", true},
          {"group_size", nullptr}, {"block_structure", nullptr}, {"actorder", nullptr}};
}

ordered_json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open");
  try {
    return ordered_json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed JSON: " + e.what());
  }
}

}  // namespace

std::string w8a8_quantization_config_json(const std::vector<std::string>& ignore, bool int8_kv_cache) {
  ordered_json q;
  q["quant_method"] = "compressed-tensors";
  q["format"] = "int-quantized";
  q["quantization_status"] = "compressed";
  q["config_groups"]["group_0"] = {{"targets", {"Linear"}},
                                   {"weights", int8_scheme("channel", false)},
                                   {"input_activations", int8_scheme("token", true)},
                                   {"output_activations", nullptr}};
  q["ignore"] = ignore;
  if (int8_kv_cache)
    q["kv_cache_scheme"] = {{"num_bits", 8}, {"type", "int"}, {"strategy", "tensor"}, {"dynamic", false},
                            {"symmetric", true}};
  else
    q["kv_cache_scheme"] = nullptr;
  return q.dump(2);
}

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(path + ": cannot open for writing");
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (out.fail()) throw Error(path + ": write failed (disk full?)");
}

void write_output_config(const std::string& input_dir, const std::string& output_dir, QuantMode mode,
                         const std::vector<std::string>& ignore, bool int8_kv_cache) {
  ordered_json cfg = read_json((fs::path(input_dir) / "config.json").string());
  if (mode == QuantMode::Bfloat16) {
    cfg.erase("quantization_config");
  } else {
    cfg["quantization_config"] = ordered_json::parse(w8a8_quantization_config_json(ignore, int8_kv_cache));
  }
  cfg["torch_dtype"] = "bfloat16";
  write_text_file((fs::path(output_dir) / "config.json").string(), cfg.dump(2) + "\n");
}

void write_index(const std::string& output_dir, const std::map<std::string, std::string>& weight_map,
                 size_t total_size) {
  ordered_json idx;
  idx["metadata"] = {{"total_size", total_size}};
  idx["weight_map"] = ordered_json::object();
  for (const auto& [name, file] : weight_map) idx["weight_map"][name] = file;
  write_text_file((fs::path(output_dir) / "model.safetensors.index.json").string(), idx.dump(2) + "\n");
}

std::vector<std::string> copy_side_files(const std::string& input_dir, const std::string& output_dir) {
  static const std::vector<std::string> kExtensions = {".json", ".py", ".model", ".tiktoken", ".jinja", ".txt", ".md"};
  std::vector<std::string> copied;
  for (const auto& entry : fs::directory_iterator(input_dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (name == "config.json" || name == "model.safetensors.index.json") continue;
    if (std::find(kExtensions.begin(), kExtensions.end(), entry.path().extension().string()) == kExtensions.end())
      continue;
    std::error_code ec;
    fs::copy_file(entry.path(), fs::path(output_dir) / name, fs::copy_options::overwrite_existing, ec);
    if (ec) throw Error(entry.path().string() + ": cannot copy to " + output_dir + ": " + ec.message());
    copied.push_back(name);
  }
  std::sort(copied.begin(), copied.end());
  return copied;
}

}  // namespace dsinfer::convert
