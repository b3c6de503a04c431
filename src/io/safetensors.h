#pragma once
// Safetensors files (single or sharded with model.safetensors.index.json),
// memory-mapped and validated: every tensor's bytes are checked to lie
// inside the file, match dtype x shape, and not overlap another tensor.
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "io/mapped_file.h"

namespace dsinfer {

// A view of one stored tensor; the bytes live in a MappedFile.
struct TensorView {
  std::string name;
  std::string file;  // path of the shard holding it, for error messages
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const;
  template <typename T>
  std::span<const T> as() const {
    return {reinterpret_cast<const T*>(data), nbytes / sizeof(T)};
  }
};

std::string shape_string(const std::vector<int64_t>& shape);

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return file_.path(); }

 private:
  MappedFile file_;
  std::map<std::string, TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of a model directory, across shards.
class Checkpoint {
 public:
  // Opens DIR/model.safetensors.index.json if present, else every
  // *.safetensors file in DIR.
  explicit Checkpoint(const std::string& dir);

  const std::string& dir() const { return dir_; }
  bool has(const std::string& name) const;
  // Throws Error naming the tensor (and the checkpoint) if absent.
  const TensorView& get(const std::string& name) const;
  std::vector<std::string> names() const;
  size_t total_bytes() const;

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*> index_;
};

}  // namespace dsinfer
