#pragma once
// Per-encode memo of pre-tokenized pieces -> their BPE ids. Text repeats
// pieces (words, indentation) a lot, and merging is the expensive part.
// Keys view into the caller's text, so a cache lives for one encode() call.
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dsinfer {

class PieceCache {
 public:
  // Longer pieces are rare and would only grow the memo.
  static constexpr size_t kMaxPiece = 128;

  // Appends the cached ids of `piece` to out; false if not cached.
  bool append_cached(std::string_view piece, std::vector<int32_t>& out) const {
    if (piece.size() > kMaxPiece) return false;
    const auto it = index_.find(piece);
    if (it == index_.end()) return false;
    const auto [offset, count] = it->second;
    out.insert(out.end(), ids_.begin() + offset, ids_.begin() + offset + count);
    return true;
  }
  // Remembers out[first..] as the ids of `piece`.
  void store(std::string_view piece, const std::vector<int32_t>& out, size_t first) {
    if (piece.size() > kMaxPiece) return;
    index_.emplace(piece, std::pair<uint32_t, uint32_t>(static_cast<uint32_t>(ids_.size()),
                                                        static_cast<uint32_t>(out.size() - first)));
    ids_.insert(ids_.end(), out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
  }

 private:
  std::unordered_map<std::string_view, std::pair<uint32_t, uint32_t>> index_;
  std::vector<int32_t> ids_;
};

}  // namespace dsinfer
