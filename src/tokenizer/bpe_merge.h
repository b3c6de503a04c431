#pragma once
// The BPE merge loop shared by both tokenizer families: repeatedly merge the
// adjacent pair with the lowest rank, leftmost first on ties, until no pair
// can merge. A min-heap over candidate pairs plus a linked list over symbols
// keeps this O(n log n) per piece, so a 1 MB piece without spaces is fine.
#include <algorithm>
#include <cstdint>
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

// Buffers reused across pieces within one encode call.
struct BpeWorkspace {
  struct Candidate {
    int32_t rank;
    int32_t left, right;  // symbol indices
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
  // Min-heap on (rank, left position): lower rank first, then leftmost.
  const auto later = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  auto& heap = ws.heap;
  heap.clear();
  const auto add_pair = [&](int32_t left, int32_t right) {
    const BpeMerge m = lookup(syms[left], syms[right]);
    if (m.rank < 0) return false;
    heap.push_back({m.rank, left, right, syms[right].end, m.new_id});
    return true;
  };
  const auto push_pair = [&](int32_t left, int32_t right) {
    if (add_pair(left, right)) std::push_heap(heap.begin(), heap.end(), later);
  };
  for (int32_t i = 0; i + 1 < n; ++i) add_pair(i, i + 1);
  std::make_heap(heap.begin(), heap.end(), later);  // O(n), unlike n pushes

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate c = heap.back();
    heap.pop_back();
    BpeSymbol& left = syms[c.left];
    // Stale when the left symbol was absorbed (then its span is empty), the
    // right one was absorbed, or the right one grew since it was queued.
    if (left.end == left.start || left.next != c.right || syms[c.right].end != c.right_end) continue;
    BpeSymbol& right = syms[c.right];
    left.id = c.new_id;
    left.end = right.end;
    left.next = right.next;
    if (right.next >= 0) syms[right.next].prev = c.left;
    right.start = right.end;  // mark absorbed
    if (left.prev >= 0) push_pair(left.prev, c.left);
    if (left.next >= 0) push_pair(c.left, left.next);
  }
  for (int32_t i = n > 0 ? 0 : -1; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
}

}  // namespace dsinfer
