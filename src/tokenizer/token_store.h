#pragma once
// The vocabulary of a tokenizer as data: every id's bytes in one blob (ids
// a vocabulary leaves unused are marked undefined) and the added/special
// tokens' content -> id map. Shared by both tokenizer families.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dsinfer {

class TokenStore {
 public:
  // Appends the next id; nullptr marks an id the vocabulary does not define.
  void append(const std::string* bytes) {
    offsets_.push_back(static_cast<uint32_t>(blob_.size()));
    defined_.push_back(bytes != nullptr);
    if (bytes) blob_ += *bytes;
  }
  // Closes the table; after this, views returned by bytes() stay valid.
  void finish() { offsets_.push_back(static_cast<uint32_t>(blob_.size())); }
  void add_special(const std::string& content, int32_t id) { special_[content] = id; }

  int32_t size() const { return offsets_.empty() ? 0 : static_cast<int32_t>(offsets_.size()) - 1; }
  bool defined(int32_t id) const { return id >= 0 && id < size() && defined_[static_cast<size_t>(id)]; }
  // Bytes of a defined id (the caller checks defined()).
  std::string_view bytes(int32_t id) const {
    return std::string_view(blob_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  std::optional<int32_t> special(std::string_view content) const {
    const auto it = special_.find(std::string(content));
    if (it == special_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::string blob_;
  std::vector<uint32_t> offsets_;  // id -> [offsets_[id], offsets_[id + 1]) in blob_
  std::vector<bool> defined_;
  std::unordered_map<std::string, int32_t> special_;
};

}  // namespace dsinfer
