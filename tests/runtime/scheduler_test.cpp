// Continuous batching: requests run together (decode first, chunked prompts,
// staggered arrivals, preemption under page pressure, prefix caching) get the
// tokens each gets alone; where a token differs, the alone run's top-2
// margin at that step must be below 1e-4 (batch composition changes float
// sums at the 1e-6 level). Cancellation frees pages within a step.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "io/error.h"
#include "runtime/generation.h"
#include "runtime/load_model.h"
#include "runtime/scheduler.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {

const DeepseekModel& r1_tiny() {
  static const auto model = load_model(test::data_path("deepseek-r1-tiny"));
  return *model;
}

struct Alone {
  std::vector<int32_t> tokens;
  std::vector<float> margins;  // top-1 minus top-2 logit at each step
};

// Greedy on a fresh engine, one token per step, keeping each step's margin.
Alone greedy_alone(const std::vector<int32_t>& prompt, int64_t n) {
  Engine engine(r1_tiny(), EngineConfig{16, 64});
  const int64_t V = r1_tiny().config().vocab_size;
  const SequenceId s = engine.add_sequence();
  Alone a;
  std::vector<int32_t> next = prompt;
  for (int64_t i = 0; i < n; ++i) {
    StepPlan plan;
    plan.entries.push_back({s, next, LogitRows::Last, nullptr});
    const StepResult r = engine.step(plan);
    std::vector<float> l(r.logits.begin(), r.logits.begin() + V);
    const int32_t best = argmax(l.data(), V);
    const float top = l[static_cast<size_t>(best)];
    l[static_cast<size_t>(best)] = -INFINITY;
    a.tokens.push_back(best);
    a.margins.push_back(top - *std::max_element(l.begin(), l.end()));
    next = {best};
  }
  return a;
}

std::vector<int32_t> random_prompt(std::mt19937_64& gen, size_t len) {
  std::vector<int32_t> p(len);
  for (auto& t : p) t = static_cast<int32_t>(gen() % static_cast<uint64_t>(r1_tiny().config().vocab_size));
  return p;
}

// Steps until idle, submitting `arrivals[k]` after k steps; returns each request's tokens.
std::map<RequestId, std::vector<int32_t>> run(Scheduler& s, std::vector<std::vector<SchedulerRequest>> arrivals,
                                             std::vector<RequestId>* ids,
                                             std::map<RequestId, FinishReason>* finish = nullptr) {
  std::map<RequestId, std::vector<int32_t>> out;
  for (size_t k = 0; !s.idle() || k < arrivals.size(); ++k) {
    if (k < arrivals.size())
      for (auto& r : arrivals[k]) ids->push_back(s.submit(std::move(r)));
    for (const RequestOutput& o : s.step()) {
      for (const auto& t : o.tokens) out[o.id].push_back(t.token);
      if (finish && o.finish != FinishReason::None) (*finish)[o.id] = o.finish;
    }
    if (k > 10000) ADD_FAILURE() << "scheduler did not finish";
    if (k > 10000) break;
  }
  return out;
}

void expect_same_as_alone(const std::vector<int32_t>& together, const std::vector<int32_t>& prompt, int64_t n,
                          const std::string& what) {
  const Alone a = greedy_alone(prompt, n);
  ASSERT_EQ(together.size(), a.tokens.size()) << what;
  for (size_t t = 0; t < together.size(); ++t)
    if (together[t] != a.tokens[t]) {
      EXPECT_LT(a.margins[t], 1e-4) << what << ": token " << t << " differs with a clear margin";
      std::printf("[scheduler] %s: token %zu differs at margin %.3g (a near tie)\n", what.c_str(), t, a.margins[t]);
      return;  // later tokens continue a different text
    }
}

SchedulerRequest greedy_request(std::vector<int32_t> prompt, int64_t n) {
  SchedulerRequest r;
  r.prompt = std::move(prompt);
  r.max_new_tokens = n;
  return r;
}

TEST(Scheduler, ConcurrentGreedyRequestsGetTheirAloneTokens) {
  for (bool prefix : {true, false}) {
    Engine engine(r1_tiny(), EngineConfig{16, 512});
    Scheduler s(engine, SchedulerConfig{64, 48, prefix});
    std::mt19937_64 gen(3);
    std::vector<std::vector<SchedulerRequest>> arrivals(8);
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < 32; ++i) {
      prompts.push_back(random_prompt(gen, 1 + gen() % 70));
      arrivals[static_cast<size_t>(i / 4)].push_back(greedy_request(prompts.back(), 10));  // 4 new requests per step
    }
    std::vector<RequestId> ids;
    const auto out = run(s, arrivals, &ids);
    ASSERT_EQ(ids.size(), 32u);
    for (size_t i = 0; i < ids.size(); ++i)
      expect_same_as_alone(out.at(ids[i]), prompts[i], 10, "request " + std::to_string(i));
    const SchedulerStats st = s.stats();
    EXPECT_EQ(st.pages_held_by_requests, 0);
    EXPECT_EQ(st.generated_tokens, 320);
    EXPECT_EQ(st.preemptions, 0);
    EXPECT_LT(st.steps, 32 * 10);  // batched: far fewer steps than tokens
  }
}

TEST(Scheduler, PrefixCachingSharesPagesAndChangesNoToken) {
  std::mt19937_64 gen(5);
  const std::vector<int32_t> system = random_prompt(gen, 40);
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 12; ++i) {
    std::vector<int32_t> p = system;
    const auto tail = random_prompt(gen, 1 + gen() % 20);
    p.insert(p.end(), tail.begin(), tail.end());
    prompts.push_back(p);
  }
  std::map<bool, std::vector<std::vector<int32_t>>> tokens;
  for (bool prefix : {false, true}) {
    Engine engine(r1_tiny(), EngineConfig{8, 512});
    Scheduler s(engine, SchedulerConfig{64, 64, prefix});
    // The first request alone first, so its pages are cached for the rest.
    std::vector<std::vector<SchedulerRequest>> arrivals(4);
    arrivals[0].push_back(greedy_request(prompts[0], 6));
    for (size_t i = 1; i < prompts.size(); ++i) arrivals[3].push_back(greedy_request(prompts[i], 6));
    std::vector<RequestId> ids;
    const auto out = run(s, arrivals, &ids);
    for (RequestId id : ids) tokens[prefix].push_back(out.at(id));
    const SchedulerStats st = s.stats();
    EXPECT_EQ(st.pages_held_by_requests, 0);
    if (prefix) {
      // 40 shared tokens = 5 full pages of 8, reused by the 11 later requests.
      EXPECT_GE(st.prefix_hit_tokens, 11 * 40);
      EXPECT_GT(st.pages_cached, 0);
    } else {
      EXPECT_EQ(st.prefix_hit_tokens, 0);
    }
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (tokens[true][i] == tokens[false][i]) continue;
    expect_same_as_alone(tokens[true][i], prompts[i], 6, "cached request " + std::to_string(i));
    expect_same_as_alone(tokens[false][i], prompts[i], 6, "uncached request " + std::to_string(i));
  }
}

TEST(Scheduler, PreemptsUnderPagePressureAndStillFinishesEveryRequest) {
  for (bool prefix : {true, false}) {
    Engine engine(r1_tiny(), EngineConfig{4, 24});  // 96 positions for 8 requests of 22
    Scheduler s(engine, SchedulerConfig{8, 64, prefix});
    std::mt19937_64 gen(11);
    std::vector<std::vector<SchedulerRequest>> arrivals(1);
    std::vector<std::vector<int32_t>> prompts;
    for (int i = 0; i < 8; ++i) {
      prompts.push_back(random_prompt(gen, 10));
      arrivals[0].push_back(greedy_request(prompts.back(), 12));
    }
    std::vector<RequestId> ids;
    std::map<RequestId, FinishReason> finish;
    const auto out = run(s, arrivals, &ids, &finish);
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(finish.at(ids[i]), FinishReason::Length);
      expect_same_as_alone(out.at(ids[i]), prompts[i], 12, "preempted batch, request " + std::to_string(i));
    }
    EXPECT_GT(s.stats().preemptions, 0);
    EXPECT_EQ(s.stats().pages_held_by_requests, 0);
  }
}

TEST(Scheduler, CancelFreesPagesAtOnceAndIsReported) {
  Engine engine(r1_tiny(), EngineConfig{8, 64});
  Scheduler s(engine, SchedulerConfig{8, 256, false});
  std::mt19937_64 gen(2);
  const RequestId a = s.submit(greedy_request(random_prompt(gen, 30), 50));
  const RequestId b = s.submit(greedy_request(random_prompt(gen, 30), 50));
  for (int i = 0; i < 3; ++i) s.step();
  const int64_t held = s.stats().pages_held_by_requests;
  s.cancel(a);
  EXPECT_LT(s.stats().pages_held_by_requests, held);
  bool reported = false;
  for (const auto& o : s.step())
    if (o.id == a) reported = o.finish == FinishReason::Cancelled;
  EXPECT_TRUE(reported);
  s.cancel(b);
  s.step();
  EXPECT_TRUE(s.idle());
  EXPECT_EQ(engine.pages_in_use(), 0);
}

TEST(Scheduler, StopTokenEndsTheRequest) {
  const std::vector<int32_t> prompt{5, 17, 9, 33};
  const Alone a = greedy_alone(prompt, 3);
  Engine engine(r1_tiny(), EngineConfig{16, 16});
  Scheduler s(engine, SchedulerConfig{});
  SchedulerRequest r = greedy_request(prompt, 10);
  r.stop_token_ids = {a.tokens[1]};
  std::vector<RequestId> ids;
  std::map<RequestId, FinishReason> finish;
  const auto out = run(s, {{r}}, &ids, &finish);
  EXPECT_EQ(out.at(ids[0]), std::vector<int32_t>(a.tokens.begin(), a.tokens.begin() + 2));
  EXPECT_EQ(finish.at(ids[0]), FinishReason::Stop);
}

TEST(Scheduler, RefusesWhatCanNeverFitAndAFullQueue) {
  Engine engine(r1_tiny(), EngineConfig{4, 4});  // 16 positions
  SchedulerConfig c;
  c.max_waiting = 1;
  Scheduler s(engine, c);
  EXPECT_THROW(s.submit(greedy_request(std::vector<int32_t>(10, 1), 7)), Error);
  EXPECT_THROW(s.submit(greedy_request({}, 1)), Error);
  s.submit(greedy_request({1, 2}, 2));
  try {
    s.submit(greedy_request({1, 2}, 2));
    FAIL() << "expected a full queue";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("queue is full"), std::string::npos);
  }
}

}  // namespace
}  // namespace dsinfer

namespace dsinfer {
namespace {

// MTP speculative decoding under continuous batching: staggered arrivals,
// chunked prompts (48-token budget), decode verify entries mixed with prompt
// chunks, preemption under a small pool; every request gets its alone
// greedy tokens, and the engine holds no page at the end.
TEST(Scheduler, SpeculativeDecodingKeepsEveryRequestsTokens) {
  for (int64_t k : {1, 3}) {
    for (int64_t pages : {512, 12}) {
      EngineConfig ec{16, pages};
      ec.mtp = true;
      Engine engine(r1_tiny(), ec);
      SchedulerConfig sc{64, 48, true};
      sc.speculative_tokens = k;
      Scheduler s(engine, sc);
      std::mt19937_64 gen(11);
      std::vector<std::vector<SchedulerRequest>> arrivals(6);
      std::vector<std::vector<int32_t>> prompts;
      for (int i = 0; i < 24; ++i) {
        prompts.push_back(random_prompt(gen, 1 + gen() % 60));
        arrivals[static_cast<size_t>(i / 4)].push_back(greedy_request(prompts.back(), 12));
      }
      std::vector<RequestId> ids;
      const auto out = run(s, arrivals, &ids);
      for (size_t i = 0; i < ids.size(); ++i)
        expect_same_as_alone(out.at(ids[i]), prompts[i], 12,
                             "k=" + std::to_string(k) + " pages=" + std::to_string(pages) + " request " + std::to_string(i));
      const SchedulerStats st = s.stats();
      EXPECT_EQ(st.pages_held_by_requests, 0);
      EXPECT_EQ(engine.pages_in_use(), 0);
      EXPECT_EQ(st.generated_tokens, 24 * 12);
      EXPECT_GT(st.speculative.verify_steps, 0);
      ASSERT_EQ(st.speculative.drafted.size(), static_cast<size_t>(k));
      if (pages == 12) {
        EXPECT_GT(st.preemptions, 0) << "the small pool must preempt";
      }
    }
  }
}

}  // namespace
}  // namespace dsinfer
