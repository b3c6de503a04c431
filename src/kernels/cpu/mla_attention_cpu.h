#pragma once
// The CPU implementation of the MLA ops of backend/ops.h (cache writes,
// absorbed decode attention over latent pages, expanded prefill attention).
#include <cstdint>
#include <span>
#include <vector>

#include "backend/ops.h"
#include "kernels/cpu/aligned_buffer.h"

namespace dsinfer::cpu {

// Prefill expands the cached latents to per-head K/V this many keys at a time.
inline constexpr int64_t kExpandedKeyChunk = 1024;

// Large buffers the attention paths reuse across layers and steps (one
// caller at a time), so neither a long prefill (its expanded key chunk:
// hundreds of MB) nor a served decode batch (its per-range partial outputs:
// megabytes) faults in and zeroes fresh memory on every layer; a burst's
// large decode buffer is given back once steps need far less.
struct MlaScratch {
  AlignedVector<float> latents, k_pe, kv;  // 64-byte aligned: read by AVX-512 tiles
  AlignedVector<float> acc, mx, sum;
};

void mla_write_cache(std::span<const AttentionSeq> seqs, const float* kv, int64_t ld);
void mla_absorb_query(const MlaShape& s, const LinearWeight& kv_b, const float* q, int64_t n_tokens, float* q_lat);
void mla_decode_attention(const MlaShape& s, std::span<const AttentionSeq> seqs, const float* q_lat, const float* q,
                          int64_t n_tokens, float* lat_out, MlaScratch& scratch);
void mla_value_projection(const MlaShape& s, const LinearWeight& kv_b, const float* lat_out, int64_t n_tokens,
                          float* o);
void mla_prefill_attention(const MlaShape& s, const LinearWeight& kv_b, std::span<const AttentionSeq> seqs,
                           const float* q, float* o, MlaScratch& scratch);

}  // namespace dsinfer::cpu
