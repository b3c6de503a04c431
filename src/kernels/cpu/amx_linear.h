#pragma once
// Linears on Intel AMX (TMUL) tiles: a 16 x 64-byte tile of weight rows,
// read in place from the row-major checkpoint (no repacked copy), times a
// tile of 16 tokens' activations (repacked per call: per 64 bytes of a row,
// tile row g holds bytes 4g..4g+3 of each token). W8A8: tdpbssd, 16 x 16 x 64
// exact int32 products per instruction (16 times a vpdpbusd); signed x
// signed, so the sums equal avx512::int8_rows' bit for bit, and the epilogue
// is the same expression: identical outputs. BF16 weights x bf16-rounded
// activations (bf16 compute): tdpbf16ps, float32 sums of bf16 pairs as
// vdpbf16ps does. Call only when cpu_features() has amx / amx_bf16 (the CPU
// has it and Linux granted the tile state).
#include <cstdint>

namespace dsinfer::cpu::amx {

// Asks Linux once for this process's permission to use the tile data state
// (arch_prctl ARCH_REQ_XCOMP_PERM); false where it is refused or absent.
bool request_tile_permission();

constexpr int64_t kTileTokens = 16;  // tokens per activation tile
constexpr int64_t kTileRows = 16;    // weight rows per weight tile
constexpr int64_t kTileBytes = 64;   // bytes of a row per tile (rows: a multiple)

// The end of the whole 16-row weight tiles in rows [r0, r1): callers run
// [r0, end) on tiles and a ragged tail on vector kernels.
inline int64_t whole_tiles_end(int64_t r0, int64_t r1) { return r0 + (r1 - r0) / kTileRows * kTileRows; }

// Size of pack_x_tiles' output: tokens rounded up to 16.
inline int64_t x_tiles_bytes(int64_t n_tokens, int64_t row_bytes) {
  return (n_tokens + kTileTokens - 1) / kTileTokens * kTileTokens * row_bytes;
}
// x [n_tokens][row_bytes] (int8 or bf16; row_bytes % 64 == 0) as activation
// tiles, one 1 KB tile per 16 tokens and 64 bytes ([token tile][row_bytes /
// 64][16][64]); padding tokens 0.
void pack_x_tiles(const void* x, int64_t n_tokens, int64_t row_bytes, uint8_t* out);

// As avx512::int8_rows for rows [r0, r1) ((r1 - r0) % 16 == 0) and tokens
// [t0, t1) (t0 % 16 == 0), the activations as pack_x_tiles wrote them:
// y[t*ldy + r - out_row0] = float(acc) * xs[t] * ws[r], or acc32 without y.
void int8_rows(const int8_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x_tiles, int64_t t0, int64_t t1,
               const float* xs, const float* ws, float* y, int32_t* acc32, int64_t ldy, int64_t out_row0);
// y[t*ldy + r - out_row0] = sum_k x[t][k] * w[r][k] (bf16 pairs, float32
// sums) for rows [r0, r1) ((r1 - r0) % 16 == 0, cols % 32 == 0), tokens
// [t0, t1) (t0 % 16 == 0), x the bf16 activations as pack_x_tiles wrote them.
void bf16_rows(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x_tiles, int64_t t0,
               int64_t t1, float* y, int64_t ldy, int64_t out_row0);

// Float32 x [n] as three bf16 tensors, each the round-to-nearest-even of
// what the parts before it leave (finite inputs): |x - (hi + mid + lo)| <=
// 2^-24 |x|, half a float32 ulp; the first two differences are exact.
void split_bf16x3(const float* x, int64_t n, uint16_t* hi, uint16_t* mid, uint16_t* lo);
// As bf16_rows, for float32 activations at float32 accuracy: x split by
// split_bf16x3, each part packed by pack_x_tiles, part p at x_tiles + p *
// part_bytes; every weight tile is loaded once for the three parts (three
// times bf16_rows' products; exact products of bf16 values, float32 sums).
void bf16x3_rows(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x_tiles,
                 int64_t part_bytes, int64_t t0, int64_t t1, float* y, int64_t ldy, int64_t out_row0);

// Few-token forms (n_tokens < 16, rows (r1 - r0) % 16 == 0): token tiles
// only n tokens wide, so a step reads 64 n bytes of activations instead of
// a 1 KB tile padded to 16 tokens. x as pack_x_narrow writes it (row_bytes
// % 64 == 0; for one token that is the activation row itself). The same
// products and order of sums as int8_rows / bf16_rows: the same bits as
// those tokens among more.
void pack_x_narrow(const void* x, int64_t n_tokens, int64_t row_bytes, uint8_t* out);
void int8_rows_narrow(const int8_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x, int64_t n_tokens,
                      const float* xs, const float* ws, float* y, int64_t ldy, int64_t out_row0);
void bf16_rows_narrow(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x, int64_t n_tokens,
                      float* y, int64_t ldy, int64_t out_row0);
// bf16x3_rows' narrow form: each of the three parts as pack_x_narrow writes
// it, part p at x + p * part_bytes; the same products and order of sums.
void bf16x3_rows_narrow(const uint16_t* w, int64_t cols, int64_t r0, int64_t r1, const uint8_t* x,
                        int64_t part_bytes, int64_t n_tokens, float* y, int64_t ldy, int64_t out_row0);

// Pair layout of a bf16 matrix v [k][n] (rows ldv apart; k even, n % 32
// == 0), the form tdpbf16ps takes its second operand in: row g of out (2n
// values) holds (v[2g][j], v[2g+1][j]) for each column j.
void pack_pairs(const uint16_t* v, int64_t ldv, int64_t k, int64_t n, uint16_t* out);
// c[i][j] (+)= sum_kk a[i][kk] * b[kk][j] in float32 (bf16 pairs), a bf16
// row-major (lda), b as pack_pairs wrote it (ldb values per row: 2n for a
// whole matrix), c row-major (ldc); m % 16 == 0, n % 16 == 0, k % 32 == 0.
void bf16_gemm_pairs(const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc, int64_t m,
                     int64_t n, int64_t k, bool accumulate);

// The peaks: iters x 4 independent tdpbssd (16 x 16 x 64 int8 MACs each) /
// tdpbf16ps (16 x 16 x 32 bf16 MACs) on the calling thread, no memory
// operands; return a value of the sums.
float int8_peak_loop(int64_t iters);
float bf16_peak_loop(int64_t iters);
inline constexpr double kOpsPerTdpbssd = 2.0 * 16 * 16 * 64;
inline constexpr double kFlopsPerTdpbf16ps = 2.0 * 16 * 16 * 32;

}  // namespace dsinfer::cpu::amx
