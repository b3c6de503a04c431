// The paged MLA cache: page accounting, exhaustion, reuse, and the C8 int8
// latent storage (quantization, dequantized dot/axpy).
#include <gtest/gtest.h>

#include <cmath>

#include "io/error.h"
#include "runtime/paged_latent_cache.h"

namespace dsinfer {
namespace {

CacheGeometry geom(bool int8) { return CacheGeometry{2, 10, 4, 4, 5, int8}; }

TEST(PagedLatentCache, AllocatesPagesOnDemandAndFreesThem) {
  PagedLatentCache c(geom(false));
  const SequenceId a = c.add_sequence(), b = c.add_sequence();
  c.extend(a, 5);  // 2 pages
  c.extend(b, 4);  // 1 page
  EXPECT_EQ(c.pages_in_use(), 3);
  EXPECT_EQ(c.length(a), 5);
  c.truncate(a, 4);
  EXPECT_EQ(c.pages_in_use(), 2);
  c.remove_sequence(b);
  EXPECT_EQ(c.pages_in_use(), 1);
  // Freed pages are reused before new ones are allocated.
  const SequenceId d = c.add_sequence();
  c.extend(d, 8);
  EXPECT_EQ(c.pages_allocated(), 3);
}

TEST(PagedLatentCache, ExhaustionIsAClearError) {
  PagedLatentCache c(geom(false));
  const SequenceId a = c.add_sequence();
  c.extend(a, 20);  // all 5 pages
  const SequenceId b = c.add_sequence();
  try {
    c.extend(b, 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exhausted"), std::string::npos);
  }
}

TEST(PagedLatentCache, PositionsDoNotAlias) {
  CacheGeometry g = geom(false);
  g.max_pages = 6;
  PagedLatentCache c(g);
  const SequenceId a = c.add_sequence(), b = c.add_sequence();
  c.extend(a, 9);
  c.extend(b, 9);
  std::vector<float> v(10);
  for (SequenceId s : {a, b})
    for (int64_t l = 0; l < 2; ++l)
      for (int64_t p = 0; p < 9; ++p) {
        for (int i = 0; i < 10; ++i) v[i] = static_cast<float>(s * 1000 + l * 100 + p * 10 + i);
        c.store_latent(s, l, p, v.data());
        for (int i = 0; i < 4; ++i) c.k_pe(s, l, p)[i] = -v[i];
      }
  for (SequenceId s : {a, b})
    for (int64_t l = 0; l < 2; ++l)
      for (int64_t p = 0; p < 9; ++p) {
        c.load_latent(s, l, p, v.data());
        EXPECT_EQ(v[3], static_cast<float>(s * 1000 + l * 100 + p * 10 + 3));
        EXPECT_EQ(c.k_pe(s, l, p)[2], -static_cast<float>(s * 1000 + l * 100 + p * 10 + 2));
      }
}

TEST(PagedLatentCache, Int8LatentQuantizesWithLayerScale) {
  PagedLatentCache c(geom(true));
  c.set_latent_scales({0.5f, 0.01f});
  const SequenceId a = c.add_sequence();
  c.extend(a, 1);
  std::vector<float> x{0.25f, 0.75f, -0.25f, 100.f, -100.f, 0.f, 1.f, 1.26f, -3.f, 1.25f}, out(10);
  c.store_latent(a, 0, 0, x.data());
  c.load_latent(a, 0, 0, out.data());
  // q = rint(x / 0.5) with half-to-even, clamped to +-127.
  const std::vector<float> expect_q{0, 2, -0, 127, -127, 0, 2, 3, -6, 2};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out[i], expect_q[i] * 0.5f) << i;
  std::vector<float> q(10, 0.f), y(10, 1.f);
  for (int i = 0; i < 10; ++i) q[i] = static_cast<float>(i) - 4.f;
  float ref = 0.f;
  for (int i = 0; i < 10; ++i) ref += q[i] * out[i];
  EXPECT_FLOAT_EQ(c.latent_dot(a, 0, 0, q.data()), ref);
  c.latent_axpy(a, 0, 0, 2.f, y.data());
  for (int i = 0; i < 10; ++i) EXPECT_FLOAT_EQ(y[i], 1.f + 2.f * out[i]);
  // A quarter of the float32 latent bytes (plus k_pe).
  PagedLatentCache f(geom(false));
  EXPECT_LT(c.bytes_per_token(), f.bytes_per_token());
}

TEST(PagedLatentCache, Int8WithoutScalesIsAnError) {
  PagedLatentCache c(geom(true));
  const SequenceId a = c.add_sequence();
  c.extend(a, 1);
  std::vector<float> x(10, 1.f);
  EXPECT_THROW(c.store_latent(a, 0, 0, x.data()), Error);
}

}  // namespace
}  // namespace dsinfer
