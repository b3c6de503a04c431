#pragma once
// Automatic prefix caching: full KV pages of a token prefix (same tokens
// from position 0) stay in the pool after their request ends and are reused
// by later requests, skipping the prefill of the shared part (a repeated
// system prompt, the earlier turns of a chat). Pages are keyed by a hash
// chained over the pages before them, so a page only matches after the same
// whole prefix; the page's tokens are kept to rule out hash collisions. The
// cache holds one reference per page; pages no sequence uses are evicted
// least recently used first when the pool runs short.
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "model/latent_cache.h"

namespace dsinfer {

class PrefixCache {
 public:
  explicit PrefixCache(PagedLatentCache& kv);
  ~PrefixCache();
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;

  // The empty sequence `seq` starts with the longest cached prefix of
  // `tokens`, in whole pages and at most max_tokens positions. Returns the
  // positions it now holds.
  int64_t attach(SequenceId seq, std::span<const int32_t> tokens, int64_t max_tokens);
  // Records the full pages of `seq`, whose first tokens.size() positions
  // (already written) hold `tokens`.
  void insert(SequenceId seq, std::span<const int32_t> tokens);
  // Frees up to `pages` pages that only the cache holds, least recently used
  // first; returns how many it freed.
  int64_t evict(int64_t pages);
  // Pages only the cache holds (free on demand).
  int64_t evictable() const;
  int64_t cached_pages() const { return static_cast<int64_t>(entries_.size()); }
  // Lookups: positions asked for and positions found.
  int64_t queried_tokens() const { return queried_; }
  int64_t hit_tokens() const { return hits_; }

 private:
  struct Entry {
    uint64_t parent = 0;  // chained hash of the pages before
    int32_t page = -1;
    int64_t depth = 0;    // page index in the prefix
    uint64_t last_use = 0;
    std::vector<int32_t> tokens;
  };
  uint64_t chain(uint64_t parent, std::span<const int32_t> page_tokens) const;
  const Entry* find(uint64_t parent, std::span<const int32_t> page_tokens, uint64_t* hash) const;

  PagedLatentCache& kv_;
  std::unordered_map<uint64_t, Entry> entries_;
  uint64_t clock_ = 0;
  int64_t queried_ = 0, hits_ = 0;
};

}  // namespace dsinfer
