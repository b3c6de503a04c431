#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "io/error.h"

namespace dsinfer {
namespace fs = std::filesystem;
using nlohmann::json;

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(path) {
  const size_t size = file_.size();
  if (size < 8) throw Error(path + ": truncated safetensors file (" + std::to_string(size) + " bytes, no header)");
  uint64_t header_len = 0;
  std::memcpy(&header_len, file_.data(), 8);
  if (header_len > size - 8)
    throw Error(path + ": header length " + std::to_string(header_len) + " runs past end of file (" +
                std::to_string(size) + " bytes)");
  const char* hdr = reinterpret_cast<const char*>(file_.data() + 8);
  json header;
  try {
    header = json::parse(hdr, hdr + header_len);
  } catch (const json::exception& e) {
    throw Error(path + ": malformed safetensors header: " + e.what());
  }
  if (!header.is_object()) throw Error(path + ": safetensors header is not a JSON object");
  const uint8_t* base = file_.data() + 8 + header_len;
  const size_t data_size = size - 8 - header_len;

  std::vector<std::pair<size_t, size_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (it->is_object())
        for (auto m = it->begin(); m != it->end(); ++m)
          if (m->is_string()) metadata_[m.key()] = m->get<std::string>();
      continue;
    }
    const std::string& name = it.key();
    const json& e = it.value();
    auto where = path + ": tensor '" + name + "'";
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      throw Error(where + ": entry lacks dtype/shape/data_offsets");
    TensorView v;
    v.name = name;
    v.file = path;
    auto dt = e["dtype"].is_string() ? parse_dtype(e["dtype"].get<std::string>()) : std::nullopt;
    if (!dt) throw Error(where + ": unsupported dtype " + e["dtype"].dump());
    v.dtype = *dt;
    if (!e["shape"].is_array()) throw Error(where + ": shape is not an array");
    for (const auto& d : e["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) throw Error(where + ": invalid shape " + e["shape"].dump());
      v.shape.push_back(d.get<int64_t>());
    }
    const json& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw Error(where + ": invalid data_offsets " + off.dump());
    size_t begin = off[0].get<size_t>(), end = off[1].get<size_t>();
    if (begin > end || end > data_size)
      throw Error(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                  "] out of range (data section is " + std::to_string(data_size) + " bytes; file truncated?)");
    v.nbytes = end - begin;
    const size_t expect = static_cast<size_t>(v.numel()) * dtype_size(v.dtype);
    if (v.nbytes != expect)
      throw Error(where + ": " + std::to_string(v.nbytes) + " bytes stored but dtype " +
                  std::string(dtype_name(v.dtype)) + " x shape " + shape_string(v.shape) + " needs " +
                  std::to_string(expect));
    v.data = base + begin;
    ranges.emplace_back(begin, end);
    tensors_.emplace(name, std::move(v));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second && ranges[i].first != ranges[i].second)
      throw Error(path + ": overlapping tensor data offsets at byte " + std::to_string(ranges[i].first));
  }
}

Checkpoint::Checkpoint(const std::string& dir) : dir_(dir) {
  if (!fs::is_directory(dir)) throw Error(dir + ": model directory does not exist");
  const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  std::vector<std::string> shard_names;
  if (fs::exists(index_path)) {
    std::ifstream in(index_path);
    json idx;
    try {
      idx = json::parse(in);
    } catch (const json::exception& e) {
      throw Error(index_path.string() + ": malformed JSON: " + e.what());
    }
    if (!idx.contains("weight_map") || !idx["weight_map"].is_object())
      throw Error(index_path.string() + ": missing object field 'weight_map'");
    std::set<std::string> uniq;
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
      if (!it->is_string()) throw Error(index_path.string() + ": weight_map['" + it.key() + "'] is not a string");
      uniq.insert(it->get<std::string>());
    }
    shard_names.assign(uniq.begin(), uniq.end());
    for (const auto& s : shard_names)
      if (!fs::exists(fs::path(dir) / s))
        throw Error((fs::path(dir) / s).string() + ": missing shard listed in " + index_path.string());
  } else {
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".safetensors") shard_names.push_back(entry.path().filename().string());
    std::sort(shard_names.begin(), shard_names.end());
    if (shard_names.empty()) throw Error(dir + ": no *.safetensors files and no model.safetensors.index.json");
  }
  for (const auto& s : shard_names) {
    files_.push_back(std::make_unique<SafetensorsFile>((fs::path(dir) / s).string()));
    for (const auto& [name, view] : files_.back()->tensors()) {
      auto [it, inserted] = index_.emplace(name, &view);
      if (!inserted) throw Error(view.file + ": tensor '" + name + "' also stored in " + it->second->file);
    }
  }
}

bool Checkpoint::has(const std::string& name) const { return index_.count(name) != 0; }

const TensorView& Checkpoint::get(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error(dir_ + ": missing tensor '" + name + "'");
  return *it->second;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  out.reserve(index_.size());
  for (const auto& [n, v] : index_) out.push_back(n);
  return out;
}

size_t Checkpoint::total_bytes() const {
  size_t n = 0;
  for (const auto& [name, v] : index_) n += v->nbytes;
  return n;
}

}  // namespace dsinfer
