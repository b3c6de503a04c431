#pragma once
// A kernel's view of one sequence's latent KV cache in one layer: the page
// table (page ids), where pages live and the strides inside a page. Kernels
// read and write cached rows through this view only, so the storage may
// belong to any backend (host memory here, device memory later) and the
// cache type itself stays in the model layer.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace dsinfer {

// The fixed shape of every page of one cache: per page, layers one after
// another, each holding page_size rows of [latent | k_pe].
struct LatentRowLayout {
  int64_t page_size = 0;    // tokens per page
  int64_t latent_dim = 0;   // kv_lora_rank
  int64_t rope_dim = 0;     // qk_rope_head_dim
  bool latent_int8 = false; // C8: int8 latent with one static scale per layer
  size_t latent_bytes = 0;  // latent part of a row (int8 rows padded to 4 bytes)
  size_t row_bytes = 0;     // latent + k_pe (float32)
  size_t layer_bytes() const { return static_cast<size_t>(page_size) * row_bytes; }
};

struct LatentPageTable {
  LatentRowLayout layout;
  uint8_t* base = nullptr;         // page p starts at base + p * page_bytes
  size_t page_bytes = 0;
  size_t layer_offset = 0;         // this layer's rows inside a page
  const int32_t* pages = nullptr;  // the sequence's page ids, in position order
  int64_t n_pages = 0;
  float latent_scale = 0.f;        // C8: dequantized latent = int8 * scale

  uint8_t* row(int64_t pos) const {
    const int64_t ps = layout.page_size;
    return base + static_cast<size_t>(pages[pos / ps]) * page_bytes + layer_offset +
           static_cast<size_t>(pos % ps) * layout.row_bytes;
  }
  // Float32 caches only: latent then k_pe, side by side, in place.
  const float* float_row(int64_t pos) const { return reinterpret_cast<const float*>(row(pos)); }
  float* k_pe(int64_t pos) const { return reinterpret_cast<float*>(row(pos) + layout.latent_bytes); }
  // Positions the table covers (reserved, not necessarily written).
  int64_t capacity() const { return n_pages * layout.page_size; }

  // One position's latent in and out (quantized under C8: q = rint(c /
  // scale), round half to even, clamped to +-127).
  void store_latent(int64_t pos, const float* latent) const {
    uint8_t* r = row(pos);
    if (!layout.latent_int8) {
      std::memcpy(r, latent, static_cast<size_t>(layout.latent_dim) * sizeof(float));
      return;
    }
    const float inv = 1.0f / latent_scale;
    int8_t* q = reinterpret_cast<int8_t*>(r);
    for (int64_t i = 0; i < layout.latent_dim; ++i) {
      const float v = std::nearbyint(latent[i] * inv);
      q[i] = static_cast<int8_t>(v > 127.f ? 127.f : (v < -127.f ? -127.f : v));
    }
  }
  void load_latent(int64_t pos, float* out) const {
    const uint8_t* r = row(pos);
    if (!layout.latent_int8) {
      std::memcpy(out, r, static_cast<size_t>(layout.latent_dim) * sizeof(float));
      return;
    }
    const int8_t* q = reinterpret_cast<const int8_t*>(r);
    for (int64_t i = 0; i < layout.latent_dim; ++i) out[i] = static_cast<float>(q[i]) * latent_scale;
  }
};

}  // namespace dsinfer
