#include "runtime/paged_latent_cache.h"

#include <string>

#include "io/error.h"

namespace dsinfer {

PagedLatentCache::PagedLatentCache(const CacheGeometry& g) : g_(g) {
  if (g.page_size <= 0 || g.max_pages <= 0 || g.n_layers <= 0)
    throw Error("KV cache: page_size, max_pages and n_layers must be positive");
}

size_t PagedLatentCache::bytes_per_page() const {
  return static_cast<size_t>(g_.n_layers * g_.page_size * row_width()) * sizeof(float);
}

SequenceId PagedLatentCache::add_sequence() {
  for (size_t i = 0; i < seqs_.size(); ++i)
    if (!seqs_[i].live) {
      seqs_[i] = Sequence{true, 0, {}};
      return static_cast<SequenceId>(i);
    }
  seqs_.push_back(Sequence{true, 0, {}});
  return static_cast<SequenceId>(seqs_.size() - 1);
}

const PagedLatentCache::Sequence& PagedLatentCache::seq(SequenceId s) const {
  if (s < 0 || static_cast<size_t>(s) >= seqs_.size() || !seqs_[s].live)
    throw Error("KV cache: unknown sequence " + std::to_string(s));
  return seqs_[s];
}

void PagedLatentCache::remove_sequence(SequenceId s) {
  truncate(s, 0);
  seqs_[s].live = false;
}

int64_t PagedLatentCache::length(SequenceId s) const { return seq(s).length; }

int32_t PagedLatentCache::take_page() {
  if (!free_pages_.empty()) {
    int32_t p = free_pages_.back();
    free_pages_.pop_back();
    return p;
  }
  if (static_cast<int64_t>(pages_.size()) >= g_.max_pages)
    throw Error("KV cache exhausted: all " + std::to_string(g_.max_pages) + " pages of " +
                std::to_string(g_.page_size) + " tokens are in use");
  pages_.push_back(std::make_unique<float[]>(bytes_per_page() / sizeof(float)));
  return static_cast<int32_t>(pages_.size() - 1);
}

void PagedLatentCache::extend(SequenceId s, int64_t new_length) {
  seq(s);
  Sequence& q = seqs_[s];
  const int64_t need = (new_length + g_.page_size - 1) / g_.page_size;
  while (static_cast<int64_t>(q.pages.size()) < need) q.pages.push_back(take_page());
  if (new_length > q.length) q.length = new_length;
}

void PagedLatentCache::truncate(SequenceId s, int64_t new_length) {
  seq(s);
  Sequence& q = seqs_[s];
  if (new_length >= q.length) return;
  q.length = new_length;
  const int64_t need = (new_length + g_.page_size - 1) / g_.page_size;
  while (static_cast<int64_t>(q.pages.size()) > need) {
    free_pages_.push_back(q.pages.back());
    q.pages.pop_back();
  }
}

float* PagedLatentCache::row(SequenceId s, int64_t layer, int64_t pos) {
  return const_cast<float*>(static_cast<const PagedLatentCache*>(this)->row(s, layer, pos));
}

const float* PagedLatentCache::row(SequenceId s, int64_t layer, int64_t pos) const {
  const Sequence& q = seqs_[s];
  const int32_t page = q.pages[static_cast<size_t>(pos / g_.page_size)];
  // Page layout: [layer][slot][latent | k_pe]
  return pages_[page].get() + (layer * g_.page_size + pos % g_.page_size) * row_width();
}

}  // namespace dsinfer
