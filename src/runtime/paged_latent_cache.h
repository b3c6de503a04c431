#pragma once
// The MLA KV cache: per token and layer it holds only the normalized
// compressed latent c_kv (kv_lora_rank floats) and the rotated k_pe
// (qk_rope_head_dim floats), ~70x smaller than expanded K/V. Storage is a
// pool of fixed-size pages shared by all sequences; a sequence is a list of
// page ids, so memory is bounded by the pool, not by any one sequence.
#include <cstdint>
#include <memory>
#include <vector>

namespace dsinfer {

using SequenceId = int32_t;

struct CacheGeometry {
  int64_t n_layers = 0;
  int64_t latent_dim = 0;  // kv_lora_rank
  int64_t rope_dim = 0;    // qk_rope_head_dim
  int64_t page_size = 128; // tokens per page
  int64_t max_pages = 0;   // pool capacity
};

class PagedLatentCache {
 public:
  explicit PagedLatentCache(const CacheGeometry& g);

  const CacheGeometry& geometry() const { return g_; }
  SequenceId add_sequence();
  void remove_sequence(SequenceId s);
  int64_t length(SequenceId s) const;
  // Grows the page table of `s` so that positions [0, new_length) exist and
  // sets its length; throws Error when the pool is exhausted.
  void extend(SequenceId s, int64_t new_length);
  // Rewinds a sequence (drops positions >= new_length, frees whole pages).
  void truncate(SequenceId s, int64_t new_length);

  // Row of (latent | k_pe) for one position of one layer: latent_dim + rope_dim floats.
  float* row(SequenceId s, int64_t layer, int64_t pos);
  const float* row(SequenceId s, int64_t layer, int64_t pos) const;
  int64_t row_width() const { return g_.latent_dim + g_.rope_dim; }

  int64_t pages_in_use() const { return static_cast<int64_t>(pages_.size() - free_pages_.size()); }
  int64_t pages_allocated() const { return static_cast<int64_t>(pages_.size()); }
  size_t bytes_per_page() const;

 private:
  struct Sequence {
    bool live = false;
    int64_t length = 0;
    std::vector<int32_t> pages;
  };
  int32_t take_page();
  const Sequence& seq(SequenceId s) const;

  CacheGeometry g_;
  std::vector<std::unique_ptr<float[]>> pages_;  // allocated lazily, up to max_pages
  std::vector<int32_t> free_pages_;
  std::vector<Sequence> seqs_;
};

}  // namespace dsinfer
