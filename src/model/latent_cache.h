#pragma once
// The MLA KV cache: per token and layer it holds only the normalized
// compressed latent c_kv (kv_lora_rank values) and the rotated k_pe
// (qk_rope_head_dim floats), ~70x smaller than expanded K/V. Storage is one
// pool of fixed-size pages shared by all sequences; a sequence is a page
// table, so memory is bounded by the pool, never by one sequence. Pages are
// reserved by the caller before a forward writes into them; full pages may
// be shared between sequences (a common prompt prefix) by reference count.
// With latent_int8 (the C8 scheme) the latent is stored as int8 with one
// static scale per layer and k_pe stays float32.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "backend/latent_pages.h"

namespace dsinfer {

using SequenceId = int32_t;

struct CacheGeometry {
  int64_t n_layers = 0;
  int64_t latent_dim = 0;    // kv_lora_rank
  int64_t rope_dim = 0;      // qk_rope_head_dim
  int64_t page_size = 128;   // tokens per page
  int64_t max_pages = 0;     // pool capacity
  bool latent_int8 = false;  // C8: int8 latent, per-layer static scale
};

class PagedLatentCache {
 public:
  // The pool's address space is reserved up front; memory is touched (and
  // becomes resident) only as pages are written.
  explicit PagedLatentCache(const CacheGeometry& g);
  PagedLatentCache(PagedLatentCache&&) noexcept;
  PagedLatentCache& operator=(PagedLatentCache&&) noexcept;
  ~PagedLatentCache();

  const CacheGeometry& geometry() const { return g_; }
  SequenceId add_sequence();
  // Frees the sequence and returns its pages to the pool (shared pages when
  // their last user leaves).
  void remove_sequence(SequenceId s);

  int64_t length(SequenceId s) const;    // positions written
  int64_t capacity(SequenceId s) const;  // positions reserved
  // Pages a reservation of new_length positions would take from the pool.
  int64_t pages_needed(SequenceId s, int64_t new_length) const;
  // Pages of page_size tokens that hold `tokens` positions.
  int64_t pages_for(int64_t tokens) const { return (tokens + g_.page_size - 1) / g_.page_size; }
  int64_t free_pages() const { return g_.max_pages - pages_in_use(); }
  bool can_reserve(SequenceId s, int64_t new_length) const { return pages_needed(s, new_length) <= free_pages(); }
  // Grows the page table so positions [0, new_length) exist; throws Error
  // (and changes nothing) when the pool has too few free pages.
  void reserve(SequenceId s, int64_t new_length);
  // Records that positions [length, new_length) now hold data (<= capacity).
  void commit(SequenceId s, int64_t new_length);
  // reserve + commit, for writers that fill rows themselves (tests, bench).
  void extend(SequenceId s, int64_t new_length);
  // Rewinds a sequence: drops positions >= new_length and every page past
  // the last one still needed.
  void truncate(SequenceId s, int64_t new_length);
  // Makes the first `tokens` positions of src (whole pages only) the start of
  // the empty sequence dst, sharing the pages. Returns the positions shared.
  int64_t share_prefix(SequenceId dst, SequenceId src, int64_t tokens);
  // The empty sequence dst starts with these full pages (a prefix cache hit):
  // each gains a holder; dst's length becomes pages.size() * page_size.
  void adopt_pages(SequenceId dst, std::span<const int32_t> pages);
  // A follower rank of a parallel server keeps no allocator state of its
  // own: sequence s becomes exactly `pages` holding `length` positions, as
  // on the rank that allocated them (no reference counts are kept here).
  void mirror_sequence(SequenceId s, std::span<const int32_t> pages, int64_t length);
  // Holders other than sequences (a prefix cache entry): a page is free
  // again when its last holder releases it.
  void retain_page(int32_t page);
  void release_page(int32_t page);

  // C8 only: the static per-layer scales (q = rint(c / scale), clamped to +-127).
  void set_latent_scales(std::vector<float> scales);

  // What kernels read and write: the sequence's pages in one layer.
  LatentPageTable page_table(SequenceId s, int64_t layer) const;

  // Row access for tests and tools (kernels go through page_table).
  void store_latent(SequenceId s, int64_t layer, int64_t pos, const float* latent);
  void load_latent(SequenceId s, int64_t layer, int64_t pos, float* out) const;
  float* k_pe(SequenceId s, int64_t layer, int64_t pos) const;

  int64_t pages_in_use() const { return pages_touched_ - static_cast<int64_t>(free_list_.size()); }
  // Pages ever handed out (the pool's resident high-water mark).
  int64_t pages_allocated() const { return pages_touched_; }
  int32_t page_refcount(int32_t page) const { return refcount_[static_cast<size_t>(page)]; }
  const std::vector<int32_t>& pages_of(SequenceId s) const { return seq(s).pages; }
  size_t bytes_per_page() const { return static_cast<size_t>(g_.n_layers) * layout_.layer_bytes(); }
  size_t bytes_per_token() const { return static_cast<size_t>(g_.n_layers) * layout_.row_bytes; }

 private:
  struct Sequence {
    bool live = false;
    int64_t length = 0;
    std::vector<int32_t> pages;
  };
  struct Pool;
  int32_t take_page();
  const Sequence& seq(SequenceId s) const;
  Sequence& seq(SequenceId s);

  CacheGeometry g_;
  LatentRowLayout layout_;
  std::unique_ptr<Pool> pool_;
  std::vector<float> latent_scales_;
  std::vector<int32_t> refcount_;  // per page; 0 = free
  std::vector<int32_t> free_list_;
  int64_t pages_touched_ = 0;
  std::vector<Sequence> seqs_;
};

}  // namespace dsinfer
