// The persistent Engine: pages return to the pool after every request and
// memory stays flat over many requests; a seeded request samples the same
// tokens alone and inside a batch; a step that does not fit changes nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "io/error.h"
#include "runtime/engine.h"
#include "runtime/generation.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {

std::string r1_tiny() { return test::data_path("deepseek-r1-tiny"); }

int64_t resident_bytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  const int n = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return n == 2 ? resident * sysconf(_SC_PAGESIZE) : -1;
}

TEST(Engine, ServesManyRequestsWithoutLeakingPagesOrMemory) {
  auto engine = Engine::open(r1_tiny(), EngineConfig{16, 64});
  const int64_t vocab = engine->model().config().vocab_size;
  std::mt19937_64 gen(7);
  int64_t rss_after_20 = 0;
  for (int i = 0; i < 200; ++i) {
    GenerationRequest req;
    // The first request has the largest shape, so buffers reach their high-water mark early.
    req.prompt.resize(i == 0 ? 48 : 1 + gen() % 48);
    for (auto& id : req.prompt) id = static_cast<int32_t>(gen() % static_cast<uint64_t>(vocab));
    req.max_new_tokens = i == 0 ? 8 : 1 + static_cast<int64_t>(gen() % 8);
    if (i % 2) {
      req.sampling.temperature = 0.9f;
      req.sampling.seed = static_cast<uint64_t>(i);
    }
    const auto out = generate(*engine, {req});
    ASSERT_EQ(out[0].generated.size(), static_cast<size_t>(req.max_new_tokens));
    ASSERT_EQ(engine->pages_in_use(), 0) << "request " << i;
    if (i == 19) rss_after_20 = resident_bytes();
    if (i % 20 == 19) std::printf("[engine] RSS after %d requests: %ld KiB\n", i + 1, static_cast<long>(resident_bytes() >> 10));
  }
  const int64_t rss_end = resident_bytes();
  std::printf("[engine] RSS after 20 requests %.2f MiB, after 200 %.2f MiB\n", rss_after_20 / 1048576.0,
              rss_end / 1048576.0);
  ASSERT_GT(rss_after_20, 0);
  EXPECT_LE(rss_end, rss_after_20 + (256 << 10));  // no per-request growth (< 256 KiB slack over 180 requests)
}

TEST(Engine, SeededRequestSamplesTheSameTokensAloneAndInABatch) {
  auto engine = Engine::open(r1_tiny(), EngineConfig{16, 256});
  const int64_t vocab = engine->model().config().vocab_size;
  auto request = [&](uint64_t seed, size_t len) {
    GenerationRequest r;
    for (size_t i = 0; i < len; ++i) r.prompt.push_back(static_cast<int32_t>((seed * 131 + i * 17) % vocab));
    r.max_new_tokens = 12;
    r.sampling.temperature = 1.0f;
    r.sampling.top_p = 0.95f;
    r.sampling.seed = seed;
    return r;
  };
  const GenerationRequest mine = request(123, 9);
  const auto alone = generate(*engine, {mine})[0].generated;
  std::vector<GenerationRequest> batch;
  for (uint64_t k = 0; k < 8; ++k) batch.push_back(request(1000 + k, 3 + 5 * k));
  batch.insert(batch.begin() + 4, mine);
  const auto together = generate(*engine, batch);
  EXPECT_EQ(together[4].generated, alone);
  // The stream is the seed's, not the position's: other seeds differ.
  int differing = 0;
  for (size_t k = 0; k < batch.size(); ++k)
    if (k != 4 && together[k].generated != alone) ++differing;
  EXPECT_EQ(differing, 8);
  EXPECT_EQ(engine->pages_in_use(), 0);
}

TEST(Engine, GreedySamplerPicksTheArgmaxOfTheStepLogits) {
  auto engine = Engine::open(r1_tiny(), EngineConfig{16, 16});
  const std::vector<int32_t> ids{5, 17, 9, 33};
  const SequenceId s = engine->add_sequence();
  Sampler greedy(SamplingParams{});
  StepPlan plan;
  plan.entries.push_back({s, ids, LogitRows::Last, &greedy});
  const StepResult r = engine->step(plan);
  ASSERT_TRUE(r.sampled[0]);
  EXPECT_EQ(r.sampled[0]->token, argmax(r.logits.data(), engine->model().config().vocab_size));
  EXPECT_EQ(engine->length(s), 4);
  engine->release(s);
  EXPECT_EQ(engine->pages_in_use(), 0);
}

TEST(Engine, StepThatDoesNotFitFailsWithoutReservingAnything) {
  auto engine = Engine::open(r1_tiny(), EngineConfig{4, 3});  // 12 positions in all
  const std::vector<int32_t> eight(8, 7), six(6, 3);
  const SequenceId a = engine->add_sequence(), b = engine->add_sequence();
  StepPlan plan;
  plan.entries.push_back({a, eight, LogitRows::Last, nullptr});
  plan.entries.push_back({b, six, LogitRows::Last, nullptr});
  EXPECT_FALSE(engine->can_fit(plan.entries));
  try {
    engine->step(plan);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("exhausted"), std::string::npos);
  }
  EXPECT_EQ(engine->pages_in_use(), 0);
  EXPECT_EQ(engine->length(a), 0);
  plan.entries.pop_back();
  EXPECT_TRUE(engine->can_fit(plan.entries));
  engine->step(plan);
  EXPECT_EQ(engine->pages_in_use(), 2);
  EXPECT_TRUE(engine->can_fit_request(4));
  EXPECT_FALSE(engine->can_fit_request(5));
}

}  // namespace
}  // namespace dsinfer
