// The parallel plan's sizes and the rank shards, without MPI: the checks
// name the key at fault, and the even splits cover every item once.
#include <gtest/gtest.h>

#include "backend/weight_slice.h"
#include "dist/collective_error.h"
#include "dist/communicator.h"
#include "dist/parallel_plan.h"
#include "io/error.h"

namespace dsinfer {
namespace {

std::string failure(const ParallelSizes& s, bool flags) {
  try {
    s.validate("x.yaml: ", flags);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ParallelSizes, DerivedSizesAndChecks) {
  ParallelSizes s{8, 2, 1, 1, 1, 1, 0};
  EXPECT_EQ(s.attn_dp(), 4);
  EXPECT_EQ(s.expert_parallel(), 8);
  EXPECT_EQ(failure(s, false), "");
  s.attn_tp = 3;
  EXPECT_NE(failure(s, false).find("parallel_config.attn_tp_size: 3 does not divide the world size 8"),
            std::string::npos);
  EXPECT_NE(failure(s, true).find("--attn-tp-size"), std::string::npos);
  s.attn_tp = 2;
  s.moe_ep = 4;
  EXPECT_NE(failure(s, false).find("parallel_config.moe_ep_size: 4 is not world_size / moe_tp_size = 8"),
            std::string::npos);
  s.moe_ep = 0;
  s.moe_tp = 2;  // EP 4 x TP 2: not a layout this engine runs
  EXPECT_NE(failure(s, false).find("moe_tp_size"), std::string::npos);
  s.moe_tp = 8;
  EXPECT_EQ(failure(s, false), "");
}

TEST(EvenPart, CoversEveryItemOnce) {
  for (int64_t total : {1, 7, 16, 129280})
    for (int64_t parts : {1, 2, 3, 4, 16}) {
      int64_t at = 0;
      for (int64_t i = 0; i < parts; ++i) {
        const SliceRange r = even_part(total, parts, i);
        EXPECT_EQ(r.begin, std::min(at, total));
        at = r.end;
      }
      EXPECT_EQ(at, total);
    }
}

TEST(SelfCommunicator, CollectivesAreCopiesAndCountNothing) {
  SelfCommunicator c;
  float x[3] = {1, 2, 3};
  c.all_reduce_sum(x, 3);
  EXPECT_EQ(x[2], 3.f);
  int32_t v = 7, out = 0;
  const int64_t sz[1] = {4};
  c.all_to_all_v(&v, sz, &out, sz, CommKind::Dispatch);
  EXPECT_EQ(out, 7);
  EXPECT_EQ(c.counters().total_bytes_sent(), 0);
}

TEST(AgreedErrors, OneRankGroupRethrowsAsAgreed) {
  SelfCommunicator c;
  EXPECT_NO_THROW(agree_on_errors(c, [] {}));
  try {
    agree_on_errors(c, [] { throw Error("model.safetensors: missing"); });
    FAIL();
  } catch (const AgreedError& e) {
    EXPECT_STREQ(e.what(), "model.safetensors: missing");
  }
}

// Slices equal the matching part of the full weight, for every format, views or copies.
TEST(WeightSlice, RowsAndColumnsMatchTheFullWeight) {
  const int64_t rows = 300, cols = 384;
  std::vector<uint8_t> fp8(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < fp8.size(); ++i) fp8[i] = static_cast<uint8_t>((i * 37) % 127);  // below 0x7f, the NaN code
  std::vector<float> scale(3 * 3);
  for (size_t i = 0; i < scale.size(); ++i) scale[i] = 0.5f + static_cast<float>(i);
  LinearWeight w{"w", WeightFormat::Fp8Block, rows, cols, fp8.data(), scale.data()};
  std::vector<int8_t> q(fp8.begin(), fp8.end());
  std::vector<float> qs(rows, 0.25f);
  LinearWeight i8{"q", WeightFormat::Int8Channel, rows, cols, q.data(), qs.data()};
  for (const LinearWeight& full : {w, i8}) {
    WeightStore store;
    std::vector<float> ref(static_cast<size_t>(cols)), got(static_cast<size_t>(cols));
    for (auto [b, e] : {std::pair<int64_t, int64_t>{128, 300}, {192, 256}, {0, 100}}) {
      const LinearWeight r = slice_rows(full, b, e, store);
      ASSERT_EQ(r.rows, e - b);
      for (int64_t i = 0; i < r.rows; ++i) {
        full.dequant_row(b + i, ref.data());
        r.dequant_row(i, got.data());
        ASSERT_EQ(ref, got) << full.name << " rows " << b;
      }
      const LinearWeight c = slice_cols(full, b, e, store);
      ASSERT_EQ(c.cols, e - b);
      for (int64_t i = 0; i < rows; ++i) {
        full.dequant_row(i, ref.data());
        c.dequant_row(i, got.data());
        for (int64_t j = 0; j < c.cols; ++j) ASSERT_EQ(got[static_cast<size_t>(j)], ref[static_cast<size_t>(b + j)]);
      }
    }
  }
}

}  // namespace
}  // namespace dsinfer
