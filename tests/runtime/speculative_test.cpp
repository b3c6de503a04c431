// MTP speculative decoding (greedy): the tokens equal plain greedy decode for
// next_n 0..3, and on a constructed checkpoint whose MTP layer predicts well
// the reported acceptance equals a replay of the plain greedy run.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "io/error.h"
#include "io/numeric_formats.h"
#include "io/safetensors.h"
#include "io/synthetic_checkpoint.h"
#include "runtime/generation.h"
#include "runtime/load_model.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {

namespace fs = std::filesystem;

std::vector<GenerationResult> run(const DeepseekModel& model, const std::vector<GenerationRequest>& reqs, int64_t k,
                                  SpeculativeStats* stats = nullptr) {
  GenerationOptions o;
  o.page_size = 16;  // drafts and rollbacks cross page boundaries
  o.speculative_tokens = k;
  o.speculative_stats = stats;
  return generate(model, reqs, o);
}

std::vector<GenerationRequest> prompts(std::initializer_list<std::vector<int32_t>> ids, int64_t max_new) {
  std::vector<GenerationRequest> r;
  for (const auto& p : ids) r.push_back({p, max_new});
  return r;
}

TEST(Speculative, GreedyTokensEqualPlainDecodeOnRandomWeights) {
  auto model = load_model(test::data_path("deepseek-r1-tiny"));
  const auto reqs = prompts({{5, 17, 9, 300, 1200}, {7, 7, 7}, {1000, 33, 2, 19, 44, 56, 71, 80, 90, 101, 11, 12, 13, 14,
                                                                 15, 16, 17}},
                            40);
  const auto plain = run(*model, reqs, 0);
  for (int64_t k = 1; k <= 3; ++k) {
    SpeculativeStats stats;
    const auto spec = run(*model, reqs, k, &stats);
    for (size_t i = 0; i < reqs.size(); ++i) EXPECT_EQ(spec[i].generated, plain[i].generated) << "k=" << k << " seq " << i;
    EXPECT_EQ(stats.next_n, k);
    EXPECT_GT(stats.verify_steps, 0);
  }
}

// The benchmark's forced acceptance: the measured rate follows the forced one
// (1: every draft kept, k + 1 tokens per step; 0: none), whatever the weights.
TEST(Speculative, ForcedAcceptanceSetsTheRate) {
  auto model = load_model(test::data_path("deepseek-r1-tiny"));
  const auto reqs = prompts({{5, 17, 9, 300, 1200}, {7, 7, 7}}, 41);
  for (int64_t k : {1, 2}) {
    for (double rate : {0.0, 0.5, 1.0}) {
      GenerationOptions o;
      o.page_size = 16;
      o.speculative_tokens = k;
      SpeculativeStats stats;
      o.speculative_stats = &stats;
      o.forced_acceptance = rate;
      const auto out = generate(*model, reqs, o);
      for (const auto& r : out) EXPECT_EQ(r.generated.size(), 41u);
      ASSERT_GT(stats.verify_steps, 0);
      if (rate == 1.0) {
        EXPECT_DOUBLE_EQ(stats.acceptance(0), 1.0);
        EXPECT_NEAR(stats.tokens_per_step(), 1.0 + static_cast<double>(k), 0.25);  // the last step may be cut short
      } else if (rate == 0.0) {
        EXPECT_DOUBLE_EQ(stats.acceptance(0), 0.0);
        EXPECT_DOUBLE_EQ(stats.tokens_per_step(), 1.0);
      } else {
        EXPECT_GT(stats.acceptance(0), 0.2);
        EXPECT_LT(stats.acceptance(0), 0.8);
      }
    }
  }
}

// Rewrites tensors of a single-shard checkpoint in place (same dtype and size).
class ShardPatcher {
 public:
  explicit ShardPatcher(const std::string& dir) {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".safetensors") path_ = e.path().string();
    std::ifstream f(path_, std::ios::binary);
    uint64_t n = 0;
    f.read(reinterpret_cast<char*>(&n), 8);
    std::string h(n, '\0');
    f.read(h.data(), static_cast<std::streamsize>(n));
    header_ = nlohmann::json::parse(h);
    data_ = 8 + n;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> v;
    for (auto it = header_.begin(); it != header_.end(); ++it)
      if (it.key() != "__metadata__") v.push_back(it.key());
    return v;
  }
  std::vector<int64_t> shape(const std::string& name) const { return header_.at(name).at("shape").get<std::vector<int64_t>>(); }
  void write(const std::string& name, const void* bytes, size_t n) const {
    const auto off = header_.at(name).at("data_offsets").get<std::vector<uint64_t>>();
    ASSERT_EQ(off[1] - off[0], n) << name;
    std::fstream f(path_, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(data_ + off[0]));
    f.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(n));
  }
  std::vector<uint16_t> read_bf16(const std::string& name) const {
    const auto off = header_.at(name).at("data_offsets").get<std::vector<uint64_t>>();
    std::vector<uint16_t> v((off[1] - off[0]) / 2);
    std::ifstream f(path_, std::ios::binary);
    f.seekg(static_cast<std::streamoff>(data_ + off[0]));
    f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 2));
    return v;
  }

 private:
  std::string path_;
  nlohmann::json header_;
  uint64_t data_ = 0;
};

bool ends_with(const std::string& s, const std::string& t) {
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

// R1-tiny's shapes with every block's output scaled to 0 (o_proj and
// down_proj block scales), all norms 1: the residual stream is the token's
// embedding, so greedy decode follows next = f(current) through lm_head
// rows. The MTP layer sees enorm(E[t[i+1]]) through eh_proj = [I, 0] and
// its head predicts f(sigma(t)), where sigma swaps some token pairs: its
// drafts are right exactly for the tokens sigma leaves alone.
std::string predictable_checkpoint() {
  static const std::string dir = [] {
    const std::string d = test::make_temp_dir("mtp-predictable");
    std::ifstream cf(test::data_path("deepseek-r1-tiny/config.json"));
    write_synthetic_checkpoint(d, nlohmann::json::parse(cf), {.seed = 11, .shards = 1, .include_mtp = true});
    ShardPatcher p(d);
    const int64_t V = 2048, H = 256;
    const std::string mtp = "model.layers.3.";
    for (const auto& name : p.names()) {
      if (ends_with(name, "o_proj.weight_scale_inv") || ends_with(name, "down_proj.weight_scale_inv")) {
        int64_t n = 1;
        for (int64_t x : p.shape(name)) n *= x;
        std::vector<float> zeros(static_cast<size_t>(n), 0.f);
        p.write(name, zeros.data(), zeros.size() * 4);
      }
      if (name == "model.norm.weight" || name == mtp + "enorm.weight" || name == mtp + "hnorm.weight" ||
          name == mtp + "shared_head.norm.weight") {
        std::vector<uint16_t> ones(static_cast<size_t>(H), 0x3F80);  // bf16 1.0
        p.write(name, ones.data(), ones.size() * 2);
      }
    }
    const auto E = p.read_bf16("model.embed_tokens.weight");
    p.write(mtp + "embed_tokens.weight", E.data(), E.size() * 2);
    auto f = [&](int64_t t) { return (t * 5 + 3) % V; };  // a permutation of [0, V)
    auto sigma = [&](int64_t t) { return ((t >> 1) % 5 < 2) ? (t ^ 1) : t; };  // swaps 40% of tokens in pairs
    std::vector<uint16_t> head(static_cast<size_t>(V * H)), mtp_head(head.size());
    for (int64_t t = 0; t < V; ++t) {
      std::copy(E.begin() + t * H, E.begin() + (t + 1) * H, head.begin() + f(t) * H);
      std::copy(E.begin() + t * H, E.begin() + (t + 1) * H, mtp_head.begin() + f(sigma(t)) * H);
    }
    p.write("lm_head.weight", head.data(), head.size() * 2);
    p.write(mtp + "shared_head.head.weight", mtp_head.data(), mtp_head.size() * 2);
    std::vector<uint16_t> eh(static_cast<size_t>(H * 2 * H), 0);
    for (int64_t r = 0; r < H; ++r) eh[static_cast<size_t>(r * 2 * H + r)] = 0x3F80;
    p.write(mtp + "eh_proj.weight", eh.data(), eh.size() * 2);
    return d;
  }();
  return dir;
}

// Acceptance for next_n 1 replayed from the plain greedy sequence t: a step
// whose last emitted token is t[m] drafts argmax(MTP row m-1) and accepts it
// iff it equals t[m+1] (then it emits t[m+1], t[m+2] while the length allows).
void replay(const DeepseekModel& model, const std::vector<int32_t>& prompt, const std::vector<int32_t>& generated,
            int64_t max_new, int64_t* steps, int64_t* accepted) {
  std::vector<int32_t> t = prompt;
  t.insert(t.end(), generated.begin(), generated.end());
  const auto logits = mtp_prompt_logits(model, t);
  const int64_t V = model.config().vocab_size;
  auto m = static_cast<int64_t>(prompt.size());
  int64_t emitted = 1;  // the prefill's token t[m]
  while (emitted < max_new) {
    ++*steps;
    const float* row = logits.data() + (m - 1) * V;
    const int32_t d = static_cast<int32_t>(std::max_element(row, row + V) - row);
    ++emitted;  // t[m+1]
    const bool hit = d == t[static_cast<size_t>(m + 1)];
    *accepted += hit;  // a right draft counts even when t[m+1] is the last token
    if (hit && emitted < max_new) {
      ++emitted;
      m += 2;
    } else {
      m += 1;
    }
  }
}

TEST(Speculative, PredictableMtpAcceptanceEqualsTheReplayOfPlainGreedy) {
  auto model = load_model(predictable_checkpoint());
  ASSERT_TRUE(model->has_mtp());
  // A mixed batch: sequences start from different tokens and accept different numbers of drafts.
  const int64_t max_new = 48;
  const auto reqs = prompts({{100, 505}, {7, 36}, {1500, 1003, 9, 20}, {42}}, max_new);
  const auto plain = run(*model, reqs, 0);
  // The construction works: plain greedy follows f.
  for (size_t i = 0; i < reqs.size(); ++i)
    EXPECT_EQ(plain[i].generated[0], (reqs[i].prompt.back() * 5 + 3) % 2048) << i;
  for (int64_t k = 1; k <= 3; ++k) {
    SpeculativeStats stats;
    const auto spec = run(*model, reqs, k, &stats);
    for (size_t i = 0; i < reqs.size(); ++i) EXPECT_EQ(spec[i].generated, plain[i].generated) << "k=" << k << " seq " << i;
    std::printf("[speculative] next_n %lld: acceptance", static_cast<long long>(k));
    for (size_t j = 0; j < stats.drafted.size(); ++j) std::printf(" %.3f", stats.acceptance(j));
    std::printf(", %.2f tokens per verify step\n", stats.tokens_per_step());
    if (k == 1) {
      int64_t steps = 0, accepted = 0;
      for (size_t i = 0; i < reqs.size(); ++i) replay(*model, reqs[i].prompt, plain[i].generated, max_new, &steps, &accepted);
      EXPECT_EQ(stats.verify_steps, steps);
      EXPECT_EQ(stats.accepted[0], accepted);
      EXPECT_GT(stats.acceptance(0), 0.3);
      EXPECT_LT(stats.acceptance(0), 0.9);
    }
    EXPECT_GT(stats.tokens_per_step(), 1.2);
  }
}

// Sampled requests run too (the distribution test is in
// speculative_sampling_test.cpp): seeded runs reproduce, lengths hold.
TEST(Speculative, SampledRequestsReproduceUnderASeed) {
  auto model = load_model(predictable_checkpoint());
  auto reqs = prompts({{100, 505}, {7, 36}}, 20);
  for (size_t i = 0; i < reqs.size(); ++i) {
    reqs[i].sampling.temperature = 0.8f;
    reqs[i].sampling.top_p = 0.9f;
    reqs[i].sampling.seed = 1000 + i;
  }
  SpeculativeStats stats;
  const auto a = run(*model, reqs, 2, &stats);
  const auto b = run(*model, reqs, 2);
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(a[i].generated, b[i].generated);
    EXPECT_EQ(a[i].generated.size(), 20u);
  }
  EXPECT_GT(stats.accepted[0], 0);  // the predictable layer's drafts are often kept
}

TEST(Speculative, RefusesWhatItCannotDo) {
  auto model = load_model(test::data_path("kimi-k2-tiny"));  // no MTP layer
  try {
    run(*model, prompts({{1, 2, 3}}, 4), 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no MTP layer"), std::string::npos) << e.what();
  }
  auto r1 = load_model(test::data_path("deepseek-r1-tiny"));
  EXPECT_THROW(run(*r1, prompts({{1, 2, 3}}, 4), 4), Error);
}

}  // namespace
}  // namespace dsinfer
