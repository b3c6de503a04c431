// The paged MLA cache: page accounting, reservation before writes,
// exhaustion, reuse, shared prefix pages, and the C8 int8 latent storage.
#include <gtest/gtest.h>

#include <cmath>

#include "io/error.h"
#include "model/latent_cache.h"

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
  // A quarter of the float32 latent bytes (plus k_pe).
  PagedLatentCache f(geom(false));
  EXPECT_LT(c.bytes_per_token(), f.bytes_per_token());
}

TEST(PagedLatentCache, ReserveThenCommit) {
  PagedLatentCache c(geom(false));  // 5 pages of 4 tokens
  const SequenceId a = c.add_sequence();
  c.reserve(a, 6);
  EXPECT_EQ(c.capacity(a), 8);
  EXPECT_EQ(c.length(a), 0);  // reserved, not written
  EXPECT_EQ(c.free_pages(), 3);
  EXPECT_EQ(c.pages_needed(a, 8), 0);
  EXPECT_EQ(c.pages_needed(a, 9), 1);
  c.commit(a, 6);
  EXPECT_EQ(c.length(a), 6);
  EXPECT_THROW(c.commit(a, 9), Error);  // past the reservation
  EXPECT_TRUE(c.can_reserve(a, 20));
  EXPECT_FALSE(c.can_reserve(a, 21));
}

TEST(PagedLatentCache, FailedReservationChangesNothing) {
  PagedLatentCache c(geom(false));
  const SequenceId a = c.add_sequence(), b = c.add_sequence();
  c.reserve(a, 12);  // 3 pages
  EXPECT_THROW(c.reserve(b, 9), Error);  // needs 3, 2 free
  EXPECT_EQ(c.capacity(b), 0);
  EXPECT_EQ(c.pages_in_use(), 3);
  c.reserve(b, 8);
  EXPECT_EQ(c.free_pages(), 0);
}

TEST(PagedLatentCache, SharedPrefixPagesAreReferenceCounted) {
  PagedLatentCache c(geom(false));
  const SequenceId a = c.add_sequence();
  c.extend(a, 10);  // pages 0..2, the third partly filled
  std::vector<float> v(10, 7.f), out(10);
  c.store_latent(a, 1, 5, v.data());
  const SequenceId b = c.add_sequence();
  EXPECT_EQ(c.share_prefix(b, a, 10), 8);  // whole pages only
  EXPECT_EQ(c.length(b), 8);
  EXPECT_EQ(c.pages_in_use(), 3);
  EXPECT_EQ(c.page_refcount(c.pages_of(a)[0]), 2);
  EXPECT_EQ(c.page_refcount(c.pages_of(a)[2]), 1);
  c.load_latent(b, 1, 5, out.data());  // the same storage
  EXPECT_EQ(out[3], 7.f);
  c.extend(b, 9);  // b's own third page
  EXPECT_NE(c.pages_of(b)[2], c.pages_of(a)[2]);
  c.remove_sequence(a);
  EXPECT_EQ(c.pages_in_use(), 3);  // b still holds the two shared pages
  EXPECT_EQ(c.page_refcount(c.pages_of(b)[0]), 1);
  c.remove_sequence(b);
  EXPECT_EQ(c.pages_in_use(), 0);
}

TEST(PagedLatentCache, PageTableViewAddressesTheSameRows) {
  PagedLatentCache c(geom(false));
  const SequenceId a = c.add_sequence();
  c.extend(a, 7);
  std::vector<float> v(10);
  for (int i = 0; i < 10; ++i) v[i] = static_cast<float>(i) + 0.5f;
  c.store_latent(a, 1, 6, v.data());
  const LatentPageTable t = c.page_table(a, 1);
  EXPECT_EQ(t.n_pages, 2);
  EXPECT_EQ(t.float_row(6)[4], 4.5f);
  EXPECT_EQ(t.k_pe(6), c.k_pe(a, 1, 6));
  EXPECT_NE(c.page_table(a, 0).float_row(6), t.float_row(6));  // layers do not alias
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
