#pragma once
// The non-tensor files of a converted checkpoint: config.json with the
// quantization_config of the new format, model.safetensors.index.json, and
// the source's tokenizer / generation config / code files copied as is.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "convert/convert_options.h"

namespace dsinfer::convert {

// compressed-tensors quantization_config of the seed's W8A8 output:
// int8 per-channel symmetric static weights, int8 per-token symmetric
// dynamic activations; kv_cache_scheme null (C16) or int8 per-tensor static (C8).
std::string w8a8_quantization_config_json(const std::vector<std::string>& ignore, bool int8_kv_cache);

// DIR/config.json from the input's: fp8 quantization_config dropped
// (bfloat16) or replaced by the compressed-tensors one (W8A8).
void write_output_config(const std::string& input_dir, const std::string& output_dir, QuantMode mode,
                         const std::vector<std::string>& ignore, bool int8_kv_cache);

// DIR/model.safetensors.index.json: {"metadata": {"total_size"}, "weight_map"}.
void write_index(const std::string& output_dir, const std::map<std::string, std::string>& weight_map,
                 size_t total_size);

// Copies *.json, *.py, *.model, *.tiktoken, *.jinja, *.txt, *.md files other
// than config.json and the index; returns the names copied.
std::vector<std::string> copy_side_files(const std::string& input_dir, const std::string& output_dir);

// Writes a small text file, throwing Error on any failure (disk full).
void write_text_file(const std::string& path, const std::string& text);

}  // namespace dsinfer::convert
