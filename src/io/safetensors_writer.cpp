#include "io/safetensors_writer.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "io/error.h"

namespace dsinfer {

size_t TensorSpec::nbytes() const {
  size_t n = dtype_size(dtype);
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

SafetensorsWriter::SafetensorsWriter(const std::string& path, std::vector<TensorSpec> specs,
                                     const std::map<std::string, std::string>& metadata)
    : path_(path), specs_(std::move(specs)) {
  // nlohmann::ordered_json keeps our declaration order in the header.
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto& s : specs_) {
    header[s.name] = {{"dtype", std::string(dtype_name(s.dtype))},
                      {"shape", s.shape},
                      {"data_offsets", {offset, offset + s.nbytes()}}};
    offset += s.nbytes();
  }
  std::string text = header.dump();
  while ((text.size() + 8) % 8 != 0) text.push_back(' ');  // align data to 8 bytes
  out_.open(path, std::ios::binary | std::ios::trunc);
  if (!out_) throw Error(path + ": cannot open for writing");
  uint64_t len = text.size();
  out_.write(reinterpret_cast<const char*>(&len), 8);
  out_.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out_) throw Error(path + ": write failed (disk full?)");
}

void SafetensorsWriter::write_next(const void* data, size_t nbytes) {
  if (next_ < specs_.size() && (written_in_current_ != 0 || nbytes != specs_[next_].nbytes()))
    throw Error(path_ + ": tensor '" + specs_[next_].name + "' has " + std::to_string(nbytes) + " bytes, declared " +
                std::to_string(specs_[next_].nbytes()));
  write_part(data, nbytes);
}

void SafetensorsWriter::write_part(const void* data, size_t nbytes) {
  if (next_ >= specs_.size()) throw Error(path_ + ": more tensors written than declared");
  const auto& s = specs_[next_];
  if (written_in_current_ + nbytes > s.nbytes())
    throw Error(path_ + ": tensor '" + s.name + "' gets more than its declared " + std::to_string(s.nbytes()) +
                " bytes");
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(nbytes));
  if (!out_) throw Error(path_ + ": write of tensor '" + s.name + "' failed (disk full?)");
  written_in_current_ += nbytes;
  if (written_in_current_ == s.nbytes()) {
    ++next_;
    written_in_current_ = 0;
  }
}

void SafetensorsWriter::finish() {
  if (next_ != specs_.size())
    throw Error(path_ + ": only " + std::to_string(next_) + " of " + std::to_string(specs_.size()) +
                " tensors written");
  out_.flush();
  out_.close();
  if (out_.fail()) throw Error(path_ + ": flush failed (disk full?)");
}

void write_safetensors(const std::string& path, const std::vector<OwnedTensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<TensorSpec> specs;
  for (const auto& t : tensors) specs.push_back(t.spec);
  SafetensorsWriter w(path, specs, metadata);
  for (const auto& t : tensors) w.write_next(t.bytes.data(), t.bytes.size());
  w.finish();
}

}  // namespace dsinfer
