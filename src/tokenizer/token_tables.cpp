#include "tokenizer/token_tables.h"

namespace dsinfer {

void PairMergeTable::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap *= 2;
  if (cap <= entries_.size()) return;
  std::vector<Entry> old;
  old.swap(entries_);
  entries_.assign(cap, Entry{});
  mask_ = cap - 1;
  shift_ = 64 - __builtin_ctzll(cap);
  size_ = 0;
  for (const Entry& e : old)
    if (e.key != kEmpty) set(static_cast<int32_t>(e.key >> 32), static_cast<int32_t>(e.key & 0xFFFFFFFFu), e.merge);
}

void PairMergeTable::grow() { reserve(entries_.empty() ? 8 : entries_.size()); }

void PairMergeTable::set(int32_t left, int32_t right, BpeMerge merge) {
  if ((size_ + 1) * 2 > entries_.size()) grow();
  const uint64_t key = pack(left, right);
  for (size_t i = slot(key);; i = (i + 1) & mask_) {
    Entry& e = entries_[i];
    if (e.key == key) {
      e.merge = merge;
      return;
    }
    if (e.key == kEmpty) {
      e = {key, merge};
      ++size_;
      return;
    }
  }
}

void BytesRankTable::build(const std::vector<std::string_view>& tokens) {
  size_t cap = 16;
  while (cap < tokens.size() * 2) cap *= 2;
  entries_.assign(cap, Entry{});
  mask_ = cap - 1;
  for (size_t r = 0; r < tokens.size(); ++r) {
    const std::string_view t = tokens[r];
    const uint64_t h = hash(t);
    size_t i = h & mask_;
    while (entries_[i].rank >= 0) i = (i + 1) & mask_;
    entries_[i] = {h, t.data(), static_cast<uint32_t>(t.size()), static_cast<int32_t>(r)};
  }
}

}  // namespace dsinfer
