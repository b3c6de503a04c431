#pragma once
// Open-addressing hash tables for the two BPE lookups on the hot path
// (std::unordered_map's node chasing dominated encode time on long pieces).
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "tokenizer/bpe_merge.h"

namespace dsinfer {

// (left id, right id) -> merge rank and merged id, for HF merges.
class PairMergeTable {
 public:
  void reserve(size_t n);
  // Inserts or overwrites.
  void set(int32_t left, int32_t right, BpeMerge merge);
  BpeMerge find(int32_t left, int32_t right) const {
    const uint64_t key = pack(left, right);
    for (size_t i = slot(key);; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.key == key) return e.merge;
      if (e.key == kEmpty) return {-1, -1};
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ULL;
  struct Entry {
    uint64_t key = kEmpty;
    BpeMerge merge{-1, -1};
  };
  static uint64_t pack(int32_t l, int32_t r) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r);
  }
  size_t slot(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_); }
  void grow();

  std::vector<Entry> entries_;
  size_t mask_ = 0, size_ = 0;
  int shift_ = 64;
};

// Token bytes -> rank, for tiktoken ranks. Keys are views into a blob the
// caller keeps alive and unchanged.
class BytesRankTable {
 public:
  void build(const std::vector<std::string_view>& tokens);  // rank = index
  int32_t find(std::string_view bytes) const {
    const uint64_t h = hash(bytes);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Entry& e = entries_[i];
      if (e.rank < 0) return -1;
      if (e.hash == h && e.size == bytes.size() && std::memcmp(e.data, bytes.data(), bytes.size()) == 0) return e.rank;
    }
  }

  static uint64_t hash(std::string_view s) {
    // FNV-style mixing eight bytes at a time; tokens are short.
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ s.size();
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
      h ^= h >> 32;
    }
    uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    h = (h ^ tail) * 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 29);
  }

 private:
  struct Entry {
    uint64_t hash = 0;
    const char* data = nullptr;
    uint32_t size = 0;
    int32_t rank = -1;
  };
  std::vector<Entry> entries_;
  size_t mask_ = 0;
};

}  // namespace dsinfer
