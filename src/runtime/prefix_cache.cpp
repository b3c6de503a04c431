#include "runtime/prefix_cache.h"

#include <algorithm>
#include <tuple>

namespace dsinfer {

PrefixCache::PrefixCache(PagedLatentCache& kv) : kv_(kv) {}

PrefixCache::~PrefixCache() {
  for (auto& [hash, e] : entries_) kv_.release_page(e.page);
}

// FNV-1a over the parent hash and the page's token ids: cheap, and the
// stored tokens settle any collision.
uint64_t PrefixCache::chain(uint64_t parent, std::span<const int32_t> page_tokens) const {
  uint64_t h = 0xcbf29ce484222325ull ^ parent;
  auto mix = [&](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 0x100000001b3ull;
    }
  };
  mix(parent);
  for (int32_t t : page_tokens) mix(static_cast<uint32_t>(t));
  return h == 0 ? 1 : h;  // 0 is the empty prefix
}

const PrefixCache::Entry* PrefixCache::find(uint64_t parent, std::span<const int32_t> page_tokens,
                                            uint64_t* hash) const {
  *hash = chain(parent, page_tokens);
  const auto it = entries_.find(*hash);
  if (it == entries_.end() || it->second.parent != parent ||
      !std::equal(page_tokens.begin(), page_tokens.end(), it->second.tokens.begin(), it->second.tokens.end()))
    return nullptr;
  return &it->second;
}

int64_t PrefixCache::attach(SequenceId seq, std::span<const int32_t> tokens, int64_t max_tokens) {
  const int64_t ps = kv_.geometry().page_size;
  const int64_t limit = std::min<int64_t>(static_cast<int64_t>(tokens.size()), max_tokens) / ps;
  queried_ += std::min<int64_t>(static_cast<int64_t>(tokens.size()), max_tokens);
  std::vector<int32_t> pages;
  uint64_t parent = 0;
  const uint64_t now = ++clock_;
  for (int64_t i = 0; i < limit; ++i) {
    uint64_t h;
    const Entry* e = find(parent, tokens.subspan(static_cast<size_t>(i * ps), static_cast<size_t>(ps)), &h);
    if (!e) break;
    entries_[h].last_use = now;
    pages.push_back(e->page);
    parent = h;
  }
  if (!pages.empty()) kv_.adopt_pages(seq, pages);
  const int64_t shared = static_cast<int64_t>(pages.size()) * ps;
  hits_ += shared;
  return shared;
}

void PrefixCache::insert(SequenceId seq, std::span<const int32_t> tokens) {
  const int64_t ps = kv_.geometry().page_size;
  const std::vector<int32_t>& pages = kv_.pages_of(seq);
  const int64_t full =
      std::min<int64_t>(std::min<int64_t>(static_cast<int64_t>(tokens.size()), kv_.length(seq)) / ps,
                        static_cast<int64_t>(pages.size()));
  uint64_t parent = 0;
  const uint64_t now = ++clock_;
  for (int64_t i = 0; i < full; ++i) {
    const auto page_tokens = tokens.subspan(static_cast<size_t>(i * ps), static_cast<size_t>(ps));
    uint64_t h;
    if (find(parent, page_tokens, &h)) {
      entries_[h].last_use = now;  // already cached (maybe the very page this sequence adopted)
    } else if (entries_.count(h) == 0) {  // a colliding different prefix keeps its slot
      const int32_t page = pages[static_cast<size_t>(i)];
      kv_.retain_page(page);
      entries_.emplace(h, Entry{parent, page, i, now, std::vector<int32_t>(page_tokens.begin(), page_tokens.end())});
    } else {
      break;
    }
    parent = h;
  }
}

int64_t PrefixCache::evictable() const {
  int64_t n = 0;
  for (const auto& [hash, e] : entries_) n += kv_.page_refcount(e.page) == 1;
  return n;
}

int64_t PrefixCache::evict(int64_t want) {
  if (want <= 0) return 0;
  // Least recently used first; of equal age the deepest first, so a prefix
  // loses its tail before its head.
  std::vector<std::tuple<uint64_t, int64_t, uint64_t>> candidates;
  for (const auto& [hash, e] : entries_)
    if (kv_.page_refcount(e.page) == 1) candidates.emplace_back(e.last_use, -e.depth, hash);
  std::sort(candidates.begin(), candidates.end());
  int64_t freed = 0;
  for (const auto& [use, neg_depth, hash] : candidates) {
    if (freed == want) break;
    kv_.release_page(entries_.at(hash).page);
    entries_.erase(hash);
    ++freed;
  }
  return freed;
}

}  // namespace dsinfer
