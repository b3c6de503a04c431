// The heap-based merge loop against the textbook quadratic one (scan all
// pairs, merge the lowest rank, leftmost on ties) on random merge tables.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "tokenizer/bpe_merge.h"

namespace dsinfer {
namespace {

struct Rules {
  std::map<std::pair<int32_t, int32_t>, BpeMerge> merges;
  BpeMerge find(int32_t l, int32_t r) const {
    const auto it = merges.find({l, r});
    return it == merges.end() ? BpeMerge{-1, -1} : it->second;
  }
};

std::vector<int32_t> naive_merge(std::vector<int32_t> ids, const Rules& rules) {
  for (;;) {
    int best = -1;
    BpeMerge best_merge{-1, -1};
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      const BpeMerge m = rules.find(ids[i], ids[i + 1]);
      if (m.rank >= 0 && (best < 0 || m.rank < best_merge.rank)) {
        best = static_cast<int>(i);
        best_merge = m;
      }
    }
    if (best < 0) return ids;
    ids[best] = best_merge.new_id;
    ids.erase(ids.begin() + best + 1);
  }
}

std::vector<int32_t> heap_merge(const std::vector<int32_t>& ids, const Rules& rules) {
  BpeWorkspace ws;
  for (size_t i = 0; i < ids.size(); ++i)
    ws.symbols.push_back({ids[i], static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1), 0, 0});
  std::vector<int32_t> out;
  bpe_merge(ws, [&](const BpeSymbol& l, const BpeSymbol& r) { return rules.find(l.id, r.id); }, out);
  return out;
}

TEST(BpeMerge, MatchesQuadraticReferenceOnRandomRules) {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 300; ++trial) {
    // A small alphabet and many rules, including rank ties between
    // different pairs, so merges overlap and compete.
    const int alphabet = 2 + static_cast<int>(rng() % 4);
    Rules rules;
    int32_t next_id = alphabet;
    const int n_rules = 1 + static_cast<int>(rng() % 40);
    for (int k = 0; k < n_rules; ++k) {
      const int32_t l = static_cast<int32_t>(rng() % next_id), r = static_cast<int32_t>(rng() % next_id);
      rules.merges.emplace(std::pair{l, r}, BpeMerge{static_cast<int32_t>(rng() % 25), next_id++});
    }
    std::vector<int32_t> ids(static_cast<size_t>(rng() % 60));
    for (auto& id : ids) id = static_cast<int32_t>(rng() % alphabet);
    ASSERT_EQ(heap_merge(ids, rules), naive_merge(ids, rules)) << "trial " << trial;
  }
}

TEST(BpeMerge, EmptyAndSingleSymbol) {
  Rules rules;
  EXPECT_TRUE(heap_merge({}, rules).empty());
  EXPECT_EQ(heap_merge({7}, rules), std::vector<int32_t>{7});
}

}  // namespace
}  // namespace dsinfer
