#pragma once
// The MLA KV cache: per token and layer it holds only the normalized
// compressed latent c_kv (kv_lora_rank floats) and the rotated k_pe
// (qk_rope_head_dim floats), ~70x smaller than expanded K/V. Storage is a
// pool of fixed-size pages shared by all sequences; a sequence is a list of
// page ids, so memory is bounded by the pool, not by any one sequence.
// With latent_int8 (the C8 scheme) the latent is stored as int8 with one
// static scale per layer and k_pe stays float32.
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
  bool latent_int8 = false; // C8: int8 latent, per-layer static scale
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

  // C8 only: the static per-layer scales (q = rint(c / scale), clamped to +-127).
  void set_latent_scales(std::vector<float> scales);

  // Stores one token's normalized latent (quantizing it under C8).
  void store_latent(SequenceId s, int64_t layer, int64_t pos, const float* latent);
  // Copies the (dequantized) latent out.
  void load_latent(SequenceId s, int64_t layer, int64_t pos, float* out) const;
  // Float32 caches: one position's row, latent then k_pe side by side
  // (latent_dim + rope_dim floats), in place. nullptr under C8.
  const float* float_row(SequenceId s, int64_t layer, int64_t pos) const {
    return g_.latent_int8 ? nullptr : reinterpret_cast<const float*>(row(s, layer, pos));
  }
  // q . latent and y += a * latent, without materializing a float copy.
  float latent_dot(SequenceId s, int64_t layer, int64_t pos, const float* q) const;
  void latent_axpy(SequenceId s, int64_t layer, int64_t pos, float a, float* y) const;
  // The rotated k_pe of one position (rope_dim floats).
  float* k_pe(SequenceId s, int64_t layer, int64_t pos);
  const float* k_pe(SequenceId s, int64_t layer, int64_t pos) const;

  int64_t pages_in_use() const { return static_cast<int64_t>(pages_.size() - free_pages_.size()); }
  int64_t pages_allocated() const { return static_cast<int64_t>(pages_.size()); }
  size_t bytes_per_page() const;
  size_t bytes_per_token() const { return static_cast<size_t>(g_.n_layers) * row_bytes_; }

 private:
  struct Sequence {
    bool live = false;
    int64_t length = 0;
    std::vector<int32_t> pages;
  };
  int32_t take_page();
  const Sequence& seq(SequenceId s) const;
  const uint8_t* row(SequenceId s, int64_t layer, int64_t pos) const;
  uint8_t* row(SequenceId s, int64_t layer, int64_t pos);

  CacheGeometry g_;
  size_t latent_bytes_ = 0;  // latent part of a row, padded to 4 bytes
  size_t row_bytes_ = 0;     // latent + k_pe
  std::vector<float> latent_scales_;
  std::vector<std::unique_ptr<uint8_t[]>> pages_;  // allocated lazily, up to max_pages
  std::vector<int32_t> free_pages_;
  std::vector<Sequence> seqs_;
};

}  // namespace dsinfer
