#include "model/latent_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <string>

#include "io/error.h"

namespace dsinfer {

// One anonymous mapping for all pages: address space only until written, so
// a large pool costs nothing until sequences fill it.
struct PagedLatentCache::Pool {
  uint8_t* base = nullptr;
  size_t bytes = 0;
  explicit Pool(size_t n) : bytes(n) {
    void* p = ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
      throw Error("KV cache: cannot reserve " + std::to_string(n >> 20) + " MiB of address space for the page pool");
    base = static_cast<uint8_t*>(p);
  }
  ~Pool() { ::munmap(base, bytes); }
};

PagedLatentCache::PagedLatentCache(const CacheGeometry& g) : g_(g) {
  if (g.page_size <= 0 || g.max_pages <= 0 || g.n_layers <= 0)
    throw Error("KV cache: page_size, max_pages and n_layers must be positive");
  layout_.page_size = g.page_size;
  layout_.latent_dim = g.latent_dim;
  layout_.rope_dim = g.rope_dim;
  layout_.latent_int8 = g.latent_int8;
  layout_.latent_bytes =
      g.latent_int8 ? (static_cast<size_t>(g.latent_dim) + 3) / 4 * 4 : static_cast<size_t>(g.latent_dim) * sizeof(float);
  layout_.row_bytes = layout_.latent_bytes + static_cast<size_t>(g.rope_dim) * sizeof(float);
  const size_t page = bytes_per_page();
  if (page == 0 || static_cast<size_t>(g.max_pages) > SIZE_MAX / 2 / page)
    throw Error("KV cache: " + std::to_string(g.max_pages) + " pages of " + std::to_string(g.page_size) +
                " tokens overflow the address space");
  pool_ = std::make_unique<Pool>(page * static_cast<size_t>(g.max_pages));
  refcount_.assign(static_cast<size_t>(g.max_pages), 0);
}

PagedLatentCache::PagedLatentCache(PagedLatentCache&&) noexcept = default;
PagedLatentCache& PagedLatentCache::operator=(PagedLatentCache&&) noexcept = default;
PagedLatentCache::~PagedLatentCache() = default;

void PagedLatentCache::set_latent_scales(std::vector<float> scales) {
  if (static_cast<int64_t>(scales.size()) != g_.n_layers)
    throw Error("KV cache: expected " + std::to_string(g_.n_layers) + " latent scales, got " +
                std::to_string(scales.size()));
  latent_scales_ = std::move(scales);
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

PagedLatentCache::Sequence& PagedLatentCache::seq(SequenceId s) {
  return const_cast<Sequence&>(static_cast<const PagedLatentCache*>(this)->seq(s));
}

void PagedLatentCache::remove_sequence(SequenceId s) {
  Sequence& q = seq(s);
  for (int32_t p : q.pages) release_page(p);
  q = Sequence{};
}

int64_t PagedLatentCache::length(SequenceId s) const { return seq(s).length; }

int64_t PagedLatentCache::capacity(SequenceId s) const {
  return static_cast<int64_t>(seq(s).pages.size()) * g_.page_size;
}

int64_t PagedLatentCache::pages_needed(SequenceId s, int64_t new_length) const {
  const int64_t have = static_cast<int64_t>(seq(s).pages.size());
  return std::max<int64_t>(0, pages_for(new_length) - have);
}

int32_t PagedLatentCache::take_page() {
  int32_t p;
  if (!free_list_.empty()) {
    p = free_list_.back();
    free_list_.pop_back();
  } else {
    p = static_cast<int32_t>(pages_touched_++);
  }
  refcount_[static_cast<size_t>(p)] = 1;
  return p;
}

void PagedLatentCache::release_page(int32_t page) {
  if (--refcount_[static_cast<size_t>(page)] == 0) free_list_.push_back(page);
}

void PagedLatentCache::reserve(SequenceId s, int64_t new_length) {
  const int64_t need = pages_needed(s, new_length);
  if (need > free_pages())
    throw Error("KV cache exhausted: sequence " + std::to_string(s) + " needs " + std::to_string(need) +
                " more pages of " + std::to_string(g_.page_size) + " tokens, " + std::to_string(free_pages()) +
                " of " + std::to_string(g_.max_pages) + " are free");
  Sequence& q = seq(s);
  for (int64_t i = 0; i < need; ++i) q.pages.push_back(take_page());
}

void PagedLatentCache::commit(SequenceId s, int64_t new_length) {
  Sequence& q = seq(s);
  if (new_length > capacity(s))
    throw Error("KV cache: sequence " + std::to_string(s) + " commits " + std::to_string(new_length) +
                " positions, only " + std::to_string(capacity(s)) + " are reserved");
  q.length = std::max(q.length, new_length);
}

void PagedLatentCache::extend(SequenceId s, int64_t new_length) {
  reserve(s, new_length);
  commit(s, new_length);
}

void PagedLatentCache::truncate(SequenceId s, int64_t new_length) {
  Sequence& q = seq(s);
  if (new_length >= q.length && pages_for(new_length) >= static_cast<int64_t>(q.pages.size())) return;
  q.length = std::min(q.length, new_length);
  const int64_t keep = pages_for(new_length);
  while (static_cast<int64_t>(q.pages.size()) > keep) {
    release_page(q.pages.back());
    q.pages.pop_back();
  }
}

int64_t PagedLatentCache::share_prefix(SequenceId dst, SequenceId src, int64_t tokens) {
  const Sequence& from = seq(src);
  Sequence& to = seq(dst);
  if (!to.pages.empty()) throw Error("KV cache: share_prefix needs an empty destination sequence");
  const int64_t full = std::min(tokens, from.length) / g_.page_size;
  for (int64_t i = 0; i < full; ++i) {
    const int32_t p = from.pages[static_cast<size_t>(i)];
    ++refcount_[static_cast<size_t>(p)];
    to.pages.push_back(p);
  }
  to.length = full * g_.page_size;
  return to.length;
}

void PagedLatentCache::adopt_pages(SequenceId dst, std::span<const int32_t> pages) {
  Sequence& to = seq(dst);
  if (!to.pages.empty()) throw Error("KV cache: adopt_pages needs an empty destination sequence");
  for (int32_t p : pages) {
    retain_page(p);
    to.pages.push_back(p);
  }
  to.length = static_cast<int64_t>(pages.size()) * g_.page_size;
}

void PagedLatentCache::mirror_sequence(SequenceId s, std::span<const int32_t> pages, int64_t length) {
  if (s < 0) throw Error("KV cache: mirrored sequence id " + std::to_string(s));
  for (int32_t p : pages)
    if (p < 0 || p >= g_.max_pages)
      throw Error("KV cache: mirrored page " + std::to_string(p) + " outside the pool of " +
                  std::to_string(g_.max_pages) + " pages (every rank needs the same pool size)");
  if (length < 0 || length > static_cast<int64_t>(pages.size()) * g_.page_size)
    throw Error("KV cache: mirrored length " + std::to_string(length) + " beyond its pages");
  if (static_cast<size_t>(s) >= seqs_.size()) seqs_.resize(static_cast<size_t>(s) + 1);
  Sequence& q = seqs_[static_cast<size_t>(s)];
  q.live = true;
  q.pages.assign(pages.begin(), pages.end());
  q.length = length;
}

void PagedLatentCache::retain_page(int32_t page) {
  if (page < 0 || page >= pages_touched_ || refcount_[static_cast<size_t>(page)] <= 0)
    throw Error("KV cache: page " + std::to_string(page) + " is not in use");
  ++refcount_[static_cast<size_t>(page)];
}

LatentPageTable PagedLatentCache::page_table(SequenceId s, int64_t layer) const {
  const Sequence& q = seq(s);
  if (g_.latent_int8 && latent_scales_.empty()) throw Error("KV cache: int8 latent cache used without per-layer scales");
  LatentPageTable t;
  t.layout = layout_;
  t.base = pool_->base;
  t.page_bytes = bytes_per_page();
  t.layer_offset = static_cast<size_t>(layer) * layout_.layer_bytes();
  t.pages = q.pages.data();
  t.n_pages = static_cast<int64_t>(q.pages.size());
  t.latent_scale = g_.latent_int8 ? latent_scales_[static_cast<size_t>(layer)] : 0.f;
  return t;
}

float* PagedLatentCache::k_pe(SequenceId s, int64_t layer, int64_t pos) const { return page_table(s, layer).k_pe(pos); }

void PagedLatentCache::store_latent(SequenceId s, int64_t layer, int64_t pos, const float* latent) {
  page_table(s, layer).store_latent(pos, latent);
}

void PagedLatentCache::load_latent(SequenceId s, int64_t layer, int64_t pos, float* out) const {
  page_table(s, layer).load_latent(pos, out);
}

}  // namespace dsinfer
