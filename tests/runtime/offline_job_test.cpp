// dsinfer run (issue: the seed's offline job): YAML validation, datasets,
// execution modes that must not change tokens, report JSON schema.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "io/error.h"
#include "io/run_config.h"
#include "runtime/offline_job.h"
#include "runtime/prompt_encoder.h"
#include "support/json_schema.h"
#include "support/test_support.h"

namespace dsinfer {
namespace {
namespace fs = std::filesystem;

// YAML mappings may not repeat keys: build the config text from a key map instead.
std::string yaml_with(std::map<std::string, std::map<std::string, std::string>> sections,
                      std::map<std::string, std::string> top) {
  std::string s;
  for (const auto& [k, v] : top) s += k + ": " + v + "\n";
  for (const auto& [sec, kv] : sections) {
    s += sec + ":\n";
    for (const auto& [k, v] : kv) s += "  " + k + ": " + v + "\n";
  }
  return s;
}

struct TinyRun {
  std::map<std::string, std::string> top{{"model_name", "deepseek_r1"}, {"exe_mode", "eager"}, {"world_size", "1"}};
  std::map<std::string, std::map<std::string, std::string>> sec{
      {"model_config", {{"enable_pa", "True"}, {"pa_block_size", "16"}}},
      {"data_config", {{"dataset", "default"}, {"input_max_len", "48"}, {"max_new_tokens", "6"}, {"batch_size", "4"}}},
      {"parallel_config", {}}};
  explicit TinyRun(const std::string& model = test::data_path("deepseek-r1-tiny")) { top["model_path"] = "\"" + model + "\""; }
  TinyRun& model(const std::string& k, const std::string& v) { sec["model_config"][k] = v; return *this; }
  TinyRun& data(const std::string& k, const std::string& v) { sec["data_config"][k] = v; return *this; }
  TinyRun& par(const std::string& k, const std::string& v) { sec["parallel_config"][k] = v; return *this; }
  TinyRun& set(const std::string& k, const std::string& v) { top[k] = v; return *this; }
  RunConfig config() const { return parse_run_config(yaml_with(sec, top), "test.yaml"); }
};

OfflineJobOptions quiet_options() {
  OfflineJobOptions o;
  o.progress = false;
  o.warmup = false;
  o.search_roots = {DSINFER_SOURCE_ROOT};
  return o;
}

nlohmann::json run_quietly(const RunConfig& c, OfflineJobOptions o = quiet_options()) {
  FILE* sink = std::fopen("/dev/null", "w");
  auto out = run_offline_job(c, o, sink);
  std::fclose(sink);
  return out;
}

std::vector<std::vector<int32_t>> output_ids(const nlohmann::json& r) {
  std::vector<std::vector<int32_t>> ids;
  for (const auto& o : r["outputs"]) ids.push_back(o["ids"].get<std::vector<int32_t>>());
  return ids;
}

TEST(OfflineJob, DefaultDatasetBatchOneAndFourGiveIdenticalTokens) {
  const auto b4 = output_ids(run_quietly(TinyRun().config()));
  const auto b1 = output_ids(run_quietly(TinyRun().data("batch_size", "1").config()));
  ASSERT_EQ(b4.size(), 4u);
  ASSERT_EQ(b1.size(), 1u);
  for (const auto& seq : b4) EXPECT_EQ(seq, b1[0]);  // the default prompt repeated
  EXPECT_EQ(b1[0].size(), 6u);
}

// YAML next_n 1..3 (MTP speculative decoding) on R1-tiny (random weights:
// drafts are rejected, every step rolls back): the same tokens as next_n 0,
// an `mtp` report object, and a refusal for a model without the layer.
TEST(OfflineJob, NextNGivesTheTokensOfPlainDecodeAndReportsAcceptance) {
  const auto plain = run_quietly(TinyRun().data("max_new_tokens", "12").config());
  EXPECT_FALSE(plain.contains("mtp"));
  for (int k = 1; k <= 3; ++k) {
    const auto spec = run_quietly(TinyRun().data("max_new_tokens", "12").model("next_n", std::to_string(k)).config());
    EXPECT_EQ(output_ids(spec), output_ids(plain)) << "next_n " << k;
    ASSERT_TRUE(spec.contains("mtp"));
    EXPECT_EQ(spec["mtp"]["next_n"], k);
    EXPECT_EQ(spec["mtp"]["acceptance"].size(), static_cast<size_t>(k));
    EXPECT_GT(spec["mtp"]["verify_steps"].get<int64_t>(), 0);
    EXPECT_GE(spec["mtp"]["tokens_per_step"].get<double>(), 1.0);
  }
  EXPECT_THROW(run_quietly(TinyRun(test::data_path("kimi-k2-tiny")).set("model_name", "kimi_k2").model("next_n", "1").config()),
               Error);
}

TinyRun longbench() {
  TinyRun r;
  r.data("dataset", "LongBench").data("dataset_path", "\"" + test::data_path("longbench") + "\"");
  r.data("input_max_len", "96");
  return r;
}

TEST(OfflineJob, LongBenchPromptsAreTruncatedAndCycled) {
  // Raw-byte ids (no tokenizer): the 60-word record is ~680 ids, the others thousands.
  const auto r = run_quietly(longbench().data("input_max_len", "800").config());
  const auto lens = r["input_tokens"].get<std::vector<int64_t>>();
  ASSERT_EQ(lens.size(), 4u);
  for (auto n : lens) EXPECT_LE(n, 800);
  EXPECT_LT(lens[0], 800);  // the short record fits untruncated
  EXPECT_EQ(lens[2], 800);  // the long one is cut to the limit
  const auto ids = output_ids(r);
  EXPECT_EQ(ids[3], ids[0]);  // 3 records cycle to fill batch 4
  const auto b1 = output_ids(run_quietly(longbench().data("input_max_len", "800").data("batch_size", "1").config()));
  EXPECT_EQ(b1[0], ids[0]);
}

TEST(OfflineJob, PrefillMultiCycleDoesNotChangeTokens) {
  const auto on = run_quietly(longbench().model("enable_prefill_multi_cycle", "True").config());
  const auto off = run_quietly(longbench().model("enable_prefill_multi_cycle", "False").config());
  EXPECT_EQ(output_ids(on), output_ids(off));
  EXPECT_EQ(on["prefill_ms"].size(), 4u);  // one cycle per sequence
  EXPECT_EQ(off["prefill_ms"].size(), 1u);
}

TEST(OfflineJob, MoeChunkLengthDoesNotChangeTokens) {
  const auto small = run_quietly(longbench().model("moe_chunk_max_len", "5").config());
  const auto large = run_quietly(longbench().model("moe_chunk_max_len", "65536").config());
  EXPECT_EQ(output_ids(small), output_ids(large));
}

TEST(OfflineJob, PagedAndContiguousCacheGiveIdenticalTokens) {
  const auto paged = run_quietly(longbench().model("pa_block_size", "8").config());
  const auto contiguous = run_quietly(longbench().model("enable_pa", "False").config());
  EXPECT_EQ(output_ids(paged), output_ids(contiguous));
}

TEST(OfflineJob, PerfectEplbRunsAndChangesRouting) {
  const auto eplb = run_quietly(longbench().model("perfect_eplb", "True").config());
  const auto normal = run_quietly(longbench().config());
  EXPECT_NE(output_ids(eplb), output_ids(normal));  // round-robin experts are not the router's choice
}

TEST(OfflineJob, ResultsJsonMatchesDocumentedSchema) {
  const std::string dir = test::make_temp_dir("results");
  OfflineJobOptions o = quiet_options();
  o.output_json = dir + "/r.json";
  o.warmup = true;
  run_quietly(TinyRun().config(), o);
  std::ifstream f(o.output_json);
  const auto r = nlohmann::json::parse(f);
  std::ifstream sf(std::string(DSINFER_SOURCE_ROOT) + "/docs/run-results.schema.json");
  const auto schema = nlohmann::json::parse(sf);
  const auto problems = test::schema_violations(r, schema);
  for (const auto& p : problems) ADD_FAILURE() << p;
  for (const char* k : {"ttft_ms", "tpot_ms", "prefill_tokens_per_s", "decode_tokens_per_s", "peak_rss_bytes", "outputs", "config"})
    EXPECT_TRUE(r.contains(k)) << k;
  EXPECT_EQ(r["config"]["data_config"]["batch_size"], 4);
  EXPECT_EQ(r["decode_ms"].size(), 5u);  // max_new_tokens - 1 decode steps
  EXPECT_GT(r["decode_tokens_per_s"].get<double>(), 0.0);
  // The validator itself must be able to fail.
  auto broken = r;
  broken.erase("ttft_ms");
  broken["outputs"][0]["ids"] = "x";
  EXPECT_EQ(test::schema_violations(broken, schema).size(), 2u);
  // With MTP: the `mtp` object is documented too.
  run_quietly(TinyRun().model("next_n", "2").config(), o);
  std::ifstream f2(o.output_json);
  const auto m = nlohmann::json::parse(f2);
  ASSERT_TRUE(m.contains("mtp"));
  for (const auto& p : test::schema_violations(m, schema)) ADD_FAILURE() << p;
  auto bad = m;
  bad["mtp"].erase("verify_steps");
  EXPECT_EQ(test::schema_violations(bad, schema).size(), 1u);
  fs::remove_all(dir);
}

TEST(OfflineJob, UnknownKeysWarnAndNpuKeysAreNotApplicable) {
  const auto c = TinyRun().model("enable_weight_nz", "True").model("enable_superkernel", "False")
                     .model("flux_capacitor", "3").set("colour", "blue").config();
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_NE(c.warnings[0].find("colour"), std::string::npos);
  EXPECT_NE(c.warnings[1].find("model_config.flux_capacitor"), std::string::npos);
  EXPECT_EQ(c.not_applicable, (std::vector<std::string>{"model_config.enable_superkernel", "model_config.enable_weight_nz"}));
}

void expect_invalid(const TinyRun& r, const std::vector<std::string>& needles) {
  try {
    r.config();
    ADD_FAILURE() << "accepted an invalid config; expected: " << needles[0];
  } catch (const Error& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

TEST(RunConfigValidation, EveryInvalidCombinationNamesItsKey) {
  expect_invalid(TinyRun().model("enable_prefill_multi_cycle", "True").model("enable_pa", "False"),
                 {"model_config.enable_prefill_multi_cycle", "enable_pa"});
  expect_invalid(TinyRun().set("world_size", "4").par("attn_tp_size", "3"), {"parallel_config.attn_tp_size", "world_size 4"});
  expect_invalid(TinyRun().set("world_size", "4").par("moe_tp_size", "8"), {"parallel_config.moe_tp_size"});
  expect_invalid(TinyRun().set("world_size", "4").data("batch_size", "6"), {"data_config.batch_size", "attention DP size 4"});
  expect_invalid(TinyRun().set("world_size", "4").par("attn_tp_size", "2").par("embed_tp_size", "1"),
                 {"parallel_config.embed_tp_size", "multiple of attn_tp_size"});
  expect_invalid(TinyRun().model("micro_batch_mode", "1").model("enable_pa", "False"), {"model_config.micro_batch_mode", "enable_pa"});
  expect_invalid(TinyRun().model("micro_batch_mode", "1").model("enable_prefill_multi_cycle", "True"),
                 {"model_config.micro_batch_mode", "enable_prefill_multi_cycle"});
  expect_invalid(TinyRun().set("world_size", "2").par("attn_tp_size", "2").par("embed_tp_size", "2").model("micro_batch_mode", "1"),
                 {"model_config.micro_batch_mode", "attn_tp_size 1"});
  expect_invalid(TinyRun().model("micro_batch_mode", "3"), {"model_config.micro_batch_mode"});
  expect_invalid(TinyRun().model("enable_multi_streams", "True"), {"exe_mode", "eager"});
  expect_invalid(TinyRun().set("exe_mode", "acl_graph").model("enable_superkernel", "True"), {"model_config.enable_superkernel"});
  expect_invalid(TinyRun().model("next_n", "4"), {"model_config.next_n"});
  expect_invalid(TinyRun().model("moe_chunk_max_len", "0"), {"model_config.moe_chunk_max_len"});
  expect_invalid(TinyRun().model("pa_block_size", "-8"), {"model_config.pa_block_size"});
  expect_invalid(TinyRun().set("exe_mode", "turbo"), {"exe_mode", "turbo"});
  expect_invalid(TinyRun().set("model_name", "llama"), {"model_name", "llama"});
  expect_invalid(TinyRun().set("model_path", "\"\""), {"model_path"});
  expect_invalid(TinyRun().data("dataset", "InfiniteBench"), {"data_config.dataset", "InfiniteBench"});
  expect_invalid(TinyRun().data("batch_size", "0"), {"data_config.batch_size"});
  expect_invalid(TinyRun().data("max_new_tokens", "zero"), {"data_config.max_new_tokens", "integer"});
  expect_invalid(TinyRun().model("enable_pa", "maybe"), {"model_config.enable_pa", "True or False"});
}

TEST(RunConfigValidation, MalformedYamlNamesTheFile) {
  try {
    parse_run_config("model_name: [unclosed", "bad.yaml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.yaml"), std::string::npos);
  }
}

TEST(OfflineJob, MissingDatasetSaysWhereToPutFiles) {
  try {
    run_quietly(TinyRun().data("dataset", "LongBench").data("dataset_path", "\"/nonexistent/lb\"").config());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dataset/LongBench/data/"), std::string::npos) << e.what();
  }
}

TEST(OfflineJob, RunThatDoesNotFitFailsBeforeLoadingWithNumbers) {
  try {
    run_quietly(TinyRun().data("batch_size", "4000000").data("input_max_len", "4096").config());
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("does not fit"), std::string::npos) << m;
    EXPECT_NE(m.find("KV cache"), std::string::npos) << m;
    EXPECT_NE(m.find("GiB"), std::string::npos) << m;
  }
}

TEST(OfflineJob, WithCkptFalseRunsRandomWeightsOfTheConfig) {
  const std::string cache = test::make_temp_dir("cache");
  ::setenv("DSINFER_CACHE_DIR", cache.c_str(), 1);
  const auto r = run_quietly(TinyRun().model("with_ckpt", "False").config());
  ::unsetenv("DSINFER_CACHE_DIR");
  EXPECT_TRUE(r["model"]["random_weights"].get<bool>());
  EXPECT_NE(r["model"]["path"].get<std::string>().find(cache), std::string::npos);
  EXPECT_EQ(r["outputs"].size(), 4u);
  fs::remove_all(cache);
}

TEST(OfflineJob, C8CheckpointRequiresMlaProlog) {
  const std::string dir = test::make_temp_dir("c8run");
  const std::string out = dir + "/c8";
  auto conv = test::run_dsinfer("convert --input_fp8_hf_path " + test::data_path("deepseek-r1-tiny") +
                                " --output_hf_path " + out + " --quant_mode w8a8c8");
  ASSERT_EQ(conv.exit_code, 0) << conv.output;
  try {
    run_quietly(TinyRun(out).config());
    ADD_FAILURE() << "C8 without enable_mla_prolog accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model_config.enable_mla_prolog"), std::string::npos) << e.what();
  }
  const auto r = run_quietly(TinyRun(out).model("enable_mla_prolog", "True").config());
  EXPECT_EQ(r["model"]["kv_cache"], "int8");
  EXPECT_EQ(r["model"]["weights"], "w8a8");
  fs::remove_all(dir);
}

// R1's model vocabulary (129280 rows) extends past its tokenizer's ids: a
// random model generates such ids, and the report decodes around them
// instead of failing after the whole run.
TEST(PromptEncoderDecode, IdsWithoutTokenizerTextAreSkipped) {
  const std::string assets = std::string(DSINFER_SOURCE_ROOT) + "/assets/deepseek-r1";
  PromptEncoder enc(assets, 129280);
  ASSERT_TRUE(enc.has_tokenizer());
  const auto hello = enc.tokenizer()->encode("Hello");
  int32_t undefined = -1;
  for (int32_t id = 129279; id > 0; --id)
    if (!enc.tokenizer()->defined(id)) {
      undefined = id;
      break;
    }
  ASSERT_GE(undefined, 0) << "the R1 tokenizer defines every id below 129280";
  std::vector<int32_t> ids = hello;
  ids.insert(ids.begin(), undefined);
  EXPECT_EQ(enc.decode(ids), "Hello");
  EXPECT_THROW(enc.tokenizer()->decode(ids), Error);  // the detokenize command still names a bad id
}

}  // namespace
}  // namespace dsinfer
