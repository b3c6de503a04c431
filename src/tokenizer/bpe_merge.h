#pragma once
// The BPE merge loop shared by both tokenizer families: repeatedly merge the
// adjacent pair with the lowest rank, leftmost first on ties, until no pair
// can merge. A min-heap over candidate pairs plus a linked list over symbols
// keeps this O(n log n) per piece, so a 1 MB piece without spaces is fine.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace dsinfer {

struct BpeSymbol {
  int32_t id;
  uint32_t start, end;  // byte span in the piece
  int32_t prev, next;   // neighbours in the live list, -1 at the ends
};

// What merging two neighbours gives; rank < 0 means they do not merge.
struct BpeMerge {
  int32_t rank;
  int32_t new_id;
};

// Min-heap with four children per node: a node's children share one cache
// line, which matters once a 1 MB piece puts millions of candidates in it.
template <typename T, typename Key>
class QuadHeap {
 public:
  explicit QuadHeap(std::vector<T>& items, Key key) : v_(items), key_(key) {}
  bool empty() const { return v_.empty(); }
  void heapify() {
    for (size_t i = v_.size() / 4 + 1; i-- > 0;) sift_down(i);
  }
  void push(const T& item) {
    v_.push_back(item);
    size_t i = v_.size() - 1;
    while (i > 0) {
      const size_t parent = (i - 1) / 4;
      if (key_(v_[parent]) <= key_(v_[i])) break;
      std::swap(v_[parent], v_[i]);
      i = parent;
    }
  }
  T pop() {
    T top = v_.front();
    v_.front() = v_.back();
    v_.pop_back();
    if (!v_.empty()) sift_down(0);
    return top;
  }

 private:
  void sift_down(size_t i) {
    const size_t n = v_.size();
    for (;;) {
      const size_t first = 4 * i + 1;
      if (first >= n) return;
      size_t best = first;
      const size_t last = std::min(first + 4, n);
      for (size_t c = first + 1; c < last; ++c)
        if (key_(v_[c]) < key_(v_[best])) best = c;
      if (key_(v_[i]) <= key_(v_[best])) return;
      std::swap(v_[i], v_[best]);
      i = best;
    }
  }
  std::vector<T>& v_;
  Key key_;
};

// Buffers reused across pieces within one encode call.
struct BpeWorkspace {
  struct Candidate {
    uint64_t order;       // rank << 32 | left symbol index: lowest rank, then leftmost
    uint32_t right_end;   // right symbol's end when queued: detects a stale entry
    int32_t new_id;
  };
  std::vector<BpeSymbol> symbols;
  std::vector<Candidate> heap;
};

// Merges ws.symbols (filled by the caller, in order, prev/next unset) and
// appends the resulting ids to `out`. lookup(left, right) -> BpeMerge.
template <typename PairLookup>
void bpe_merge(BpeWorkspace& ws, PairLookup&& lookup, std::vector<int32_t>& out) {
  auto& syms = ws.symbols;
  const int32_t n = static_cast<int32_t>(syms.size());
  for (int32_t i = 0; i < n; ++i) {
    syms[i].prev = i - 1;
    syms[i].next = i + 1 < n ? i + 1 : -1;
  }
  using Candidate = BpeWorkspace::Candidate;
  ws.heap.clear();
  QuadHeap heap(ws.heap, [](const Candidate& c) { return c.order; });
  const auto make_candidate = [&](int32_t left, int32_t right) -> std::optional<Candidate> {
    const BpeMerge m = lookup(syms[left], syms[right]);
    if (m.rank < 0) return std::nullopt;
    return Candidate{(static_cast<uint64_t>(m.rank) << 32) | static_cast<uint32_t>(left), syms[right].end, m.new_id};
  };
  const auto push_pair = [&](int32_t left, int32_t right) {
    if (const auto c = make_candidate(left, right)) heap.push(*c);
  };
  for (int32_t i = 0; i + 1 < n; ++i)
    if (const auto c = make_candidate(i, i + 1)) ws.heap.push_back(*c);
  heap.heapify();  // O(n), unlike n pushes

  while (!heap.empty()) {
    const Candidate c = heap.pop();
    const auto left_index = static_cast<int32_t>(c.order & 0xFFFFFFFFu);
    BpeSymbol& left = syms[left_index];
    // Stale when the left symbol was absorbed (its span is then empty), or
    // its right neighbour is no longer the one queued: absorbed (left.next
    // moved on) or grown since (a different end).
    if (left.end == left.start || left.next < 0 || syms[left.next].end != c.right_end) continue;
    const int32_t right_index = left.next;
    BpeSymbol& right = syms[right_index];
    left.id = c.new_id;
    left.end = right.end;
    left.next = right.next;
    if (right.next >= 0) syms[right.next].prev = left_index;
    right.start = right.end;  // mark absorbed
    if (left.prev >= 0) push_pair(left.prev, left_index);
    if (left.next >= 0) push_pair(left_index, left.next);
  }
  for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
}

}  // namespace dsinfer
