// A mixed step (decode entries beside a prompt chunk) must equal the same
// work run entry by entry, and each entry must take its own attention path:
// absorbed (latent) for decode tokens, expanded for the chunk.
#include <gtest/gtest.h>

#include <map>
#include <utility>

#include "io/error.h"
#include "support/golden_fixture.h"
#include "support/reserved_forward.h"

namespace dsinfer {
namespace {

using MixedBatchTest = test::GoldenModelTest;

class PathRecorder final : public ForwardObserver {
 public:
  void attention_path(int64_t layer, size_t entry, AttentionPath path) override { paths[{layer, entry}] = path; }
  std::map<std::pair<int64_t, size_t>, AttentionPath> paths;
};

TEST_P(MixedBatchTest, MixedStepEqualsSeparateWorkAndPicksPathsPerEntry) {
  const auto& ps = g_->prompts;
  ASSERT_GE(ps.size(), 2u);
  const int64_t V = g_->vocab;
  const auto& pa = ps[0];
  const auto& pb = ps[1];
  ASSERT_GE(pb.ids.size(), 4u);
  const size_t half = pb.ids.size() / 2;
  const std::span<const int32_t> b_first(pb.ids.data(), half), b_rest(pb.ids.data() + half, pb.ids.size() - half);

  // Mixed: A and C decode (A = prompt 0, C = prompt 1 whole) while B's second chunk prefills.
  PagedLatentCache cache = model_->make_cache(16, 256);
  const SequenceId a = cache.add_sequence(), b = cache.add_sequence(), c = cache.add_sequence();
  const BatchEntry warm[] = {{a, pa.ids, false}, {b, b_first, false}, {c, pb.ids, false}};
  test::forward_reserved(*model_, warm, cache);
  PathRecorder rec;
  ForwardOptions with_recorder;
  with_recorder.observer = &rec;
  const BatchEntry mixed[] = {{a, std::span<const int32_t>(&pa.gen_ids[0], 1), false},
                              {b, b_rest, true},
                              {c, std::span<const int32_t>(&pb.gen_ids[0], 1), false}};
  const auto out = test::forward_reserved(*model_, mixed, cache, with_recorder);
  const int64_t rest = static_cast<int64_t>(b_rest.size());
  ASSERT_EQ(out.size(), static_cast<size_t>((2 + rest) * V));

  for (int64_t layer = 0; layer < model_->config().num_hidden_layers; ++layer) {
    EXPECT_EQ(rec.paths.at({layer, 0}), AttentionPath::Absorbed) << "layer " << layer;
    EXPECT_EQ(rec.paths.at({layer, 1}), AttentionPath::Expanded) << "layer " << layer;
    EXPECT_EQ(rec.paths.at({layer, 2}), AttentionPath::Absorbed) << "layer " << layer;
  }

  // The same work, one entry per forward.
  auto alone = [&](std::span<const int32_t> before, std::span<const int32_t> now, bool all) {
    PagedLatentCache solo = model_->make_cache(16, 64);
    const SequenceId s = solo.add_sequence();
    const BatchEntry first{s, before, false};
    test::forward_reserved(*model_, std::span<const BatchEntry>(&first, 1), solo);
    const BatchEntry second{s, now, all};
    return test::forward_reserved(*model_, std::span<const BatchEntry>(&second, 1), solo);
  };
  const auto ra = alone(pa.ids, std::span<const int32_t>(&pa.gen_ids[0], 1), false);
  const auto rb = alone(b_first, b_rest, true);
  const auto rc = alone(pb.ids, std::span<const int32_t>(&pb.gen_ids[0], 1), false);
  const float da = test::max_abs_diff(out.data(), ra.data(), V);
  const float db = test::max_abs_diff(out.data() + V, rb.data(), rest * V);
  const float dc = test::max_abs_diff(out.data() + (1 + rest) * V, rc.data(), V);
  std::printf("[mixed] %s: max |mixed - separate| decode %.3g / chunk %.3g / decode %.3g\n", GetParam().c_str(), da,
              db, dc);
  EXPECT_LE(da, 1e-4);
  EXPECT_LE(db, 1e-4);
  EXPECT_LE(dc, 1e-4);
  // And against the outside reference: the chunk's rows are prompt 1's logits,
  // the decode rows the reference's second generated distribution.
  EXPECT_LE(test::max_abs_diff(out.data() + V, pb.logits.data() + half * V, rest * V), 1e-3);
  EXPECT_LE(test::max_abs_diff(out.data(), pa.gen_logits.data() + V, V), 1e-3);
  EXPECT_LE(test::max_abs_diff(out.data() + (1 + rest) * V, pb.gen_logits.data() + V, V), 1e-3);
}

TEST_P(MixedBatchTest, ForwardRefusesUnreservedPositionsAndChangesNothing) {
  const auto& p = g_->prompts[0];
  PagedLatentCache cache = model_->make_cache(1, 64);  // one position per page: reservations are exact
  const SequenceId s = cache.add_sequence();
  cache.reserve(s, static_cast<int64_t>(p.ids.size()) - 1);
  const BatchEntry e{s, p.ids, false};
  try {
    model_->forward(std::span<const BatchEntry>(&e, 1), cache);
    FAIL() << "expected an error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("reserve"), std::string::npos) << err.what();
  }
  EXPECT_EQ(cache.length(s), 0);
}

INSTANTIATE_TEST_SUITE_P(TinyCheckpoints, MixedBatchTest, ::testing::Values("deepseek-r1-tiny", "kimi-k2-tiny"),
                         test::checkpoint_param_name);

}  // namespace
}  // namespace dsinfer
