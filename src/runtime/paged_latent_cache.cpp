#include "runtime/paged_latent_cache.h"

#include <cmath>
#include <cstring>
#include <string>

#include "kernels/cpu/cpu_ops.h"

#include "io/error.h"

namespace dsinfer {

PagedLatentCache::PagedLatentCache(const CacheGeometry& g) : g_(g) {
  if (g.page_size <= 0 || g.max_pages <= 0 || g.n_layers <= 0)
    throw Error("KV cache: page_size, max_pages and n_layers must be positive");
  latent_bytes_ = g.latent_int8 ? (static_cast<size_t>(g.latent_dim) + 3) / 4 * 4 : g.latent_dim * sizeof(float);
  row_bytes_ = latent_bytes_ + static_cast<size_t>(g.rope_dim) * sizeof(float);
}

size_t PagedLatentCache::bytes_per_page() const { return static_cast<size_t>(g_.page_size) * bytes_per_token(); }

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
  pages_.push_back(std::make_unique<uint8_t[]>(bytes_per_page()));
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

uint8_t* PagedLatentCache::row(SequenceId s, int64_t layer, int64_t pos) {
  return const_cast<uint8_t*>(static_cast<const PagedLatentCache*>(this)->row(s, layer, pos));
}

const uint8_t* PagedLatentCache::row(SequenceId s, int64_t layer, int64_t pos) const {
  const Sequence& q = seqs_[s];
  const int32_t page = q.pages[static_cast<size_t>(pos / g_.page_size)];
  // Page layout: [layer][slot][latent | k_pe]
  return pages_[page].get() + static_cast<size_t>(layer * g_.page_size + pos % g_.page_size) * row_bytes_;
}

float* PagedLatentCache::k_pe(SequenceId s, int64_t layer, int64_t pos) {
  return reinterpret_cast<float*>(row(s, layer, pos) + latent_bytes_);
}

const float* PagedLatentCache::k_pe(SequenceId s, int64_t layer, int64_t pos) const {
  return reinterpret_cast<const float*>(row(s, layer, pos) + latent_bytes_);
}

void PagedLatentCache::store_latent(SequenceId s, int64_t layer, int64_t pos, const float* latent) {
  uint8_t* r = row(s, layer, pos);
  if (!g_.latent_int8) {
    std::memcpy(r, latent, latent_bytes_);
    return;
  }
  if (latent_scales_.empty()) throw Error("KV cache: int8 latent cache used without per-layer scales");
  const float inv = 1.0f / latent_scales_[layer];
  int8_t* q = reinterpret_cast<int8_t*>(r);
  for (int64_t i = 0; i < g_.latent_dim; ++i) {
    const float v = std::nearbyint(latent[i] * inv);  // round half to even
    q[i] = static_cast<int8_t>(v > 127.f ? 127.f : (v < -127.f ? -127.f : v));
  }
}

void PagedLatentCache::load_latent(SequenceId s, int64_t layer, int64_t pos, float* out) const {
  const uint8_t* r = row(s, layer, pos);
  if (!g_.latent_int8) {
    std::memcpy(out, r, latent_bytes_);
    return;
  }
  const int8_t* q = reinterpret_cast<const int8_t*>(r);
  const float scale = latent_scales_[layer];
  for (int64_t i = 0; i < g_.latent_dim; ++i) out[i] = static_cast<float>(q[i]) * scale;
}

float PagedLatentCache::latent_dot(SequenceId s, int64_t layer, int64_t pos, const float* qv) const {
  const uint8_t* r = row(s, layer, pos);
  if (!g_.latent_int8) return cpu::dot(qv, reinterpret_cast<const float*>(r), g_.latent_dim);
  const int8_t* q = reinterpret_cast<const int8_t*>(r);
  float acc = 0.f;
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < g_.latent_dim; ++i) acc += qv[i] * static_cast<float>(q[i]);
  return acc * latent_scales_[layer];
}

void PagedLatentCache::latent_axpy(SequenceId s, int64_t layer, int64_t pos, float a, float* y) const {
  const uint8_t* r = row(s, layer, pos);
  if (!g_.latent_int8) {
    cpu::axpy(a, reinterpret_cast<const float*>(r), y, g_.latent_dim);
    return;
  }
  const int8_t* q = reinterpret_cast<const int8_t*>(r);
  const float as = a * latent_scales_[layer];
#pragma omp simd
  for (int64_t i = 0; i < g_.latent_dim; ++i) y[i] += as * static_cast<float>(q[i]);
}

}  // namespace dsinfer
