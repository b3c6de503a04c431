#include "io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "io/error.h"
#include "io/strict_json.h"
#include "io/text_file.h"

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
  const json header = parse_json_strict(std::string_view(hdr, header_len), path + ": safetensors header");
  if (!header.is_object()) throw Error(path + ": safetensors header is not a JSON object");
  const uint8_t* base = file_.data() + 8 + header_len;
  const size_t data_size = size - 8 - header_len;

  struct Range {
    size_t begin, end;
    std::string name;
    bool operator<(const Range& o) const { return begin < o.begin || (begin == o.begin && end < o.end); }
  };
  std::vector<Range> ranges;
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
    if (!dt) throw Error(where + ": unsupported dtype " + json_excerpt(e["dtype"]));
    v.dtype = *dt;
    if (!e["shape"].is_array()) throw Error(where + ": shape is not an array");
    for (const auto& d : e["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        throw Error(where + ": invalid shape " + json_excerpt(e["shape"]));
      v.shape.push_back(d.get<int64_t>());
    }
    // Elements x element size must not wrap around (a hostile shape would pass the size check).
    uint64_t bytes = dtype_size(v.dtype);
    for (int64_t d : v.shape)
      if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes))
        throw Error(where + ": shape " + shape_string(v.shape) + " overflows 64-bit byte counts");
    const json& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw Error(where + ": invalid data_offsets " + json_excerpt(off));
    size_t begin = off[0].get<size_t>(), end = off[1].get<size_t>();
    if (begin > end || end > data_size)
      throw Error(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                  "] out of range (data section is " + std::to_string(data_size) + " bytes; file truncated?)");
    v.nbytes = end - begin;
    const size_t expect = bytes;
    if (v.nbytes != expect)
      throw Error(where + ": " + std::to_string(v.nbytes) + " bytes stored but dtype " +
                  std::string(dtype_name(v.dtype)) + " x shape " + shape_string(v.shape) + " needs " +
                  std::to_string(expect));
    v.data = base + begin;
    ranges.push_back({begin, end, name});
    tensors_.emplace(name, std::move(v));
  }
  // The data section is exactly the tensors, back to back: a header length
  // that ends inside the header's padding would shift every tensor.
  std::sort(ranges.begin(), ranges.end());
  size_t at = 0;
  std::string last;  // the tensor that ends at `at`
  for (const Range& r : ranges) {
    if (r.begin == r.end && r.end <= at) continue;  // an empty tensor takes no bytes
    if (r.begin < at)
      throw Error(path + ": overlapping tensors '" + last + "' and '" + r.name + "' at data byte " + std::to_string(r.begin));
    if (r.begin > at)
      throw Error(path + ": " + std::to_string(r.begin - at) + " bytes of the data section before tensor '" + r.name +
                  "' belong to no tensor (header length " + std::to_string(header_len) + " wrong?)");
    at = r.end;
    last = r.name;
  }
  if (at != data_size)
    throw Error(path + ": the data section has " + std::to_string(data_size) + " bytes but its tensors end at " +
                std::to_string(at) + " (header length " + std::to_string(header_len) + " wrong, or trailing bytes)");
}

Checkpoint::Checkpoint(const std::string& dir) : dir_(dir) {
  if (!fs::is_directory(dir)) throw Error(dir + ": model directory does not exist");
  const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  std::vector<std::string> shard_names;
  if (fs::exists(index_path)) {
    const json idx = parse_json_strict(read_text_file(index_path.string()), index_path.string());
    if (!idx.is_object() || !idx.contains("weight_map") || !idx["weight_map"].is_object())
      throw Error(index_path.string() + ": missing object field 'weight_map'");
    std::set<std::string> uniq;
    for (auto it = idx["weight_map"].begin(); it != idx["weight_map"].end(); ++it) {
      if (!it->is_string()) throw Error(index_path.string() + ": weight_map['" + it.key() + "'] is not a string");
      const std::string& file = it->get_ref<const std::string&>();
      // A shard is a file of this directory: no absolute path, no way up.
      const fs::path rel(file);
      bool leaves = rel.empty() || rel.is_absolute();
      for (const auto& part : rel) leaves = leaves || part == "..";
      if (leaves)
        throw Error(index_path.string() + ": weight_map['" + it.key() + "'] = \"" + file +
                    "\" leaves the model directory (shards must be files inside it)");
      uniq.insert(file);
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
