#include "runtime/offline_job.h"

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "io/error.h"
#include "io/model_config.h"
#include "io/synthetic_checkpoint.h"
#include "kernels/cpu/thread_pinning.h"
#include "runtime/load_model.h"
#include "runtime/memory_plan.h"
#include "runtime/offline_runner.h"
#include "runtime/prompt_dataset.h"
#include "runtime/prompt_encoder.h"
#include "runtime/random_checkpoint_cache.h"
#include "runtime/run_statistics.h"
#include "runtime/step_progress.h"

namespace dsinfer {
namespace fs = std::filesystem;

namespace {

const char* kTokenizerFiles[] = {"tokenizer.json", "tokenizer_config.json", "tiktoken.model", "generation_config.json"};

uint64_t safetensors_bytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") n += e.file_size();
  return n;
}

std::string weights_kind(const ModelConfig& c) {
  switch (c.quant.weights) {
    case WeightQuant::Fp8Block:
      return "fp8";
    case WeightQuant::Int8Channel:
      return "w8a8";
    case WeightQuant::None:
      return "bf16";
  }
  return "?";
}

}  // namespace

std::string resolve_model_dir(const RunConfig& cfg, std::vector<std::string>& notes) {
  if (cfg.model.with_ckpt) return cfg.model_path;
  const fs::path cfg_path = fs::path(cfg.model_path) / "config.json";
  std::ifstream in(cfg_path);
  if (!in) throw Error(cfg_path.string() + ": cannot open (model_config.with_ckpt: False still needs the config)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(cfg_path.string() + ": malformed JSON: " + e.what());
  }
  const ModelConfig mc = parse_model_config(j.dump(), cfg_path.string());
  // Plan before generating: a random model of a real config can be huge.
  const uint64_t bytes = synthetic_checkpoint_bytes(j);
  const int64_t max_len = cfg.data.input_max_len + cfg.data.max_new_tokens;
  MemoryPlan plan = plan_memory(mc, bytes, cfg.data.batch_size, cfg.data.batch_size * cfg.data.input_max_len, max_len,
                                cfg.model.enable_pa ? cfg.model.pa_block_size : max_len);
  check_fits(plan);
  std::vector<std::string> extras;
  for (const char* f : kTokenizerFiles)
    if (fs::exists(fs::path(cfg.model_path) / f)) extras.push_back((fs::path(cfg.model_path) / f).string());
  const std::string dir = ensure_random_checkpoint(j, "random-" + cfg.model_name, extras);
  notes.push_back("model_config.with_ckpt is False: running RANDOM weights of " + cfg_path.string() + " from " + dir);
  return dir;
}

namespace {

nlohmann::json summary(const std::vector<double>& v) {
  return {{"mean", mean_of(v)}, {"p50", percentile_of(v, 50)}, {"p99", percentile_of(v, 99)}};
}

}  // namespace

nlohmann::json run_offline_job(const RunConfig& cfg, const OfflineJobOptions& opt, FILE* rep) {
  std::vector<std::string> notes;
  for (const auto& w : cfg.warnings) std::fprintf(stderr, "dsinfer: warning: %s: %s\n", cfg.source.c_str(), w.c_str());
  if (cfg.world_size > 1)
    notes.push_back("world_size " + std::to_string(cfg.world_size) +
                    ": parallel_config validated; this build runs the whole model in one process");
  if (cfg.exe_mode != "eager") notes.push_back("exe_mode " + cfg.exe_mode + ": graph capture is NPU-specific; runs eagerly");

  const std::string model_dir = resolve_model_dir(cfg, notes);
  const ModelConfig mc = load_model_config(model_dir);
  if (mc.quant.kv_cache_int8 && !cfg.model.enable_mla_prolog)
    throw Error(cfg.source + ": model_config.enable_mla_prolog: a C8 checkpoint (int8 KV cache, " + model_dir +
                ") requires enable_mla_prolog: True, as in the Ascend sample");

  const int64_t batch = cfg.data.batch_size;
  const int64_t max_len = cfg.data.input_max_len + cfg.data.max_new_tokens;
  if (cfg.data.max_new_tokens > mc.max_position_embeddings - cfg.data.input_max_len)  // no overflow
    throw Error(cfg.source + ": data_config.input_max_len (" + std::to_string(cfg.data.input_max_len) +
                ") + max_new_tokens (" + std::to_string(cfg.data.max_new_tokens) + ") exceeds the model's " +
                "max_position_embeddings (" + std::to_string(mc.max_position_embeddings) + ", " + mc.path + ")");
  const int64_t page_size = cfg.model.enable_pa ? cfg.model.pa_block_size : max_len;  // contiguous: one page each
  const int64_t prefill_tokens = cfg.model.enable_prefill_multi_cycle ? cfg.data.input_max_len : batch * cfg.data.input_max_len;
  const MemoryPlan plan = plan_memory(mc, safetensors_bytes(model_dir), batch, prefill_tokens, max_len, page_size);
  check_fits(plan);

  auto model = load_model(model_dir, opt.precision);
  if (cfg.model.next_n > 0 && !model->has_mtp())
    throw Error(cfg.source + ": model_config.next_n " + std::to_string(cfg.model.next_n) + " needs the MTP layer, and " +
                model_dir + " has none (model.layers." + std::to_string(mc.num_hidden_layers) + ".*)");
  const PromptEncoder encoder(model_dir, mc.vocab_size);
  if (!encoder.has_tokenizer())
    notes.push_back("no tokenizer files in " + model_dir + ": prompts use raw-byte ids (id = byte % vocab_size)");
  DatasetRequest dr{cfg.data.dataset, cfg.data.dataset_path, opt.search_roots, batch, cfg.data.max_new_tokens};
  const auto texts = load_prompt_texts(dr);
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& t : texts) prompts.push_back(encoder.encode(t, cfg.data.input_max_len, cfg.data.chat_template));

  OfflineRunOptions ro;
  ro.max_new_tokens = cfg.data.max_new_tokens;
  ro.page_size = page_size;
  ro.prefill_multi_cycle = cfg.model.enable_prefill_multi_cycle;
  ro.next_n = cfg.model.next_n;
  ro.prefill.moe_chunk_max_len = cfg.model.moe_chunk_max_len;
  ro.prefill.perfect_eplb = ro.decode.perfect_eplb = cfg.model.perfect_eplb;

  // One engine for the warm-up and the measured run: the pool and the
  // backend's workspaces are created once.
  EngineConfig ec{page_size, offline_batch_pages(prompts, ro)};
  ec.mtp = ro.next_n > 0;
  Engine engine(*model, ec);
  if (opt.warmup) {  // the Ascend sample warms up with prefill + one decode step
    OfflineRunOptions warm = ro;
    warm.max_new_tokens = std::min<int64_t>(2, ro.max_new_tokens);
    run_offline_batch(engine, prompts, warm);
  }
  StepProgress progress;
  if (opt.progress) ro.on_step = [&](const StepEvent& e) { progress.on_step(e); };
  const OfflineRunResult r = run_offline_batch(engine, prompts, ro);
  progress.finish();

  // Metrics.
  const int threads = cpu::worker_threads();
  const double prefill_total = std::accumulate(r.prefill_ms.begin(), r.prefill_ms.end(), 0.0);
  const double decode_total = std::accumulate(r.decode_ms.begin(), r.decode_ms.end(), 0.0);
  const int64_t gen_tokens = batch * cfg.data.max_new_tokens;
  // Tokens after each sequence's first (which prefill produced).
  int64_t decode_tokens = 0;
  for (const auto& g : r.generated) decode_tokens += std::max<int64_t>(0, static_cast<int64_t>(g.size()) - 1);
  // Each decode step gives every sequence one token, with MTP tokens_per_step.
  std::vector<double> tpot = r.decode_ms;
  if (ro.next_n > 0 && r.mtp.tokens_per_step() > 0)
    for (double& t : tpot) t /= r.mtp.tokens_per_step();
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  const uint64_t peak_rss = static_cast<uint64_t>(ru.ru_maxrss) * 1024;
  const double prefill_tps = prefill_total > 0 ? r.prompt_tokens * 1000.0 / prefill_total : 0.0;
  const double decode_tps = decode_total > 0 ? decode_tokens * 1000.0 / decode_total : 0.0;
  const double total_tps = prefill_total + decode_total > 0 ? gen_tokens * 1000.0 / (prefill_total + decode_total) : 0.0;

  nlohmann::json out;
  out["schema_version"] = 1;
  out["label"] = opt.label;
  out["model"] = {{"path", model_dir},
                  {"model_type", mc.model_type},
                  {"random_weights", is_random_checkpoint(model_dir)},
                  {"weights", weights_kind(mc)},
                  {"kv_cache", mc.quant.kv_cache_int8 ? "int8" : "float32"},
                  {"compute_precision", compute_precision_name(model->compute_precision())},
                  {"layers", mc.num_hidden_layers},
                  {"hidden_size", mc.hidden_size},
                  {"n_routed_experts", mc.n_routed_experts}};
  out["config"] = cfg.resolved;
  out["warnings"] = cfg.warnings;
  out["not_applicable"] = cfg.not_applicable;
  out["notes"] = notes;
  out["threads"] = threads;
  out["batch_size"] = batch;
  std::vector<int64_t> input_lens;
  for (const auto& p : prompts) input_lens.push_back(static_cast<int64_t>(p.size()));
  out["input_tokens"] = input_lens;
  out["prompt_tokens_total"] = r.prompt_tokens;
  out["generated_tokens_total"] = gen_tokens;
  out["memory_plan"] = {{"weights_bytes", plan.weight_bytes},
                        {"kv_cache_bytes", plan.kv_cache_bytes},
                        {"activation_bytes", plan.activation_bytes},
                        {"available_bytes", plan.available_bytes}};
  out["prefill_ms"] = r.prefill_ms;
  out["decode_ms"] = r.decode_ms;
  out["ttft_ms"] = mean_of(r.ttft_ms);
  out["ttft_ms_per_sequence"] = r.ttft_ms;
  out["tpot_ms"] = mean_of(tpot);
  out["tpot_ms_summary"] = summary(tpot);
  out["decode_step_avg_ms_filtered"] = outlier_filtered_mean(r.decode_ms);
  out["prefill_tokens_per_s"] = prefill_tps;
  out["decode_tokens_per_s"] = decode_tps;
  out["total_tokens_per_s"] = total_tps;
  out["decode_tokens_per_s_per_core"] = decode_tps / threads;
  out["peak_rss_bytes"] = peak_rss;
  if (ro.next_n > 0) out["mtp"] = r.mtp.to_json();
  nlohmann::json outputs = nlohmann::json::array();
  for (size_t i = 0; i < r.generated.size(); ++i)
    outputs.push_back({{"ids", r.generated[i]}, {"text", encoder.decode(r.generated[i])}});
  out["outputs"] = outputs;

  // Text report.
  std::fprintf(rep, "\n=== dsinfer run: %s ===\n", opt.label.empty() ? cfg.source.c_str() : opt.label.c_str());
  std::fprintf(rep, "model      %s (%s, %s weights, %s KV cache%s)\n", model_dir.c_str(), mc.model_type.c_str(),
               weights_kind(mc).c_str(), mc.quant.kv_cache_int8 ? "int8" : "float32",
               is_random_checkpoint(model_dir) ? ", RANDOM WEIGHTS: text is meaningless" : "");
  for (const auto& n : notes) std::fprintf(rep, "note       %s\n", n.c_str());
  if (!cfg.not_applicable.empty()) {
    std::string keys;
    for (const auto& k : cfg.not_applicable) keys += (keys.empty() ? "" : ", ") + k;
    std::fprintf(rep, "n/a        NPU-only keys accepted, not applicable on this backend: %s\n", keys.c_str());
  }
  std::fprintf(rep, "memory     %s\n", plan.describe().c_str());
  std::fprintf(rep, "batch      %lld sequences, %lld prompt tokens, %lld new tokens each, %d threads\n",
               static_cast<long long>(batch), static_cast<long long>(r.prompt_tokens),
               static_cast<long long>(cfg.data.max_new_tokens), threads);
  for (size_t i = 0; i < r.prefill_ms.size(); ++i)
    std::fprintf(rep, "prefill    cycle %zu: %.2f ms\n", i + 1, r.prefill_ms[i]);
  for (size_t i = 0; i < r.decode_ms.size(); ++i)
    std::fprintf(rep, "decode     step %zu: %.2f ms\n", i + 1, r.decode_ms[i]);
  std::fprintf(rep, "---\n");
  std::fprintf(rep, "decode step average (outliers > Q3 + 1.5 IQR removed): %.2f ms\n",
               outlier_filtered_mean(r.decode_ms));
  if (ro.next_n > 0) {
    std::string acc;
    for (size_t j = 0; j < r.mtp.drafted.size(); ++j) {
      char b[32];
      std::snprintf(b, sizeof(b), "%s%.3f", j ? " / " : "", r.mtp.acceptance(j));
      acc += b;
    }
    std::fprintf(rep, "MTP        next_n %lld: acceptance per draft position %s, %.2f accepted per step, %.2f tokens "
                      "per step\n",
                 static_cast<long long>(ro.next_n), acc.c_str(), r.mtp.mean_accepted(), r.mtp.tokens_per_step());
  }
  std::fprintf(rep, "TTFT       mean %.2f ms  p50 %.2f  p99 %.2f\n", mean_of(r.ttft_ms), percentile_of(r.ttft_ms, 50),
               percentile_of(r.ttft_ms, 99));
  std::fprintf(rep, "TPOT       mean %.2f ms  p50 %.2f  p99 %.2f\n", mean_of(tpot), percentile_of(tpot, 50),
               percentile_of(tpot, 99));
  std::fprintf(rep, "throughput prefill %.1f tok/s | decode %.1f tok/s (%.1f tok/s per core) | total %.1f tok/s\n",
               prefill_tps, decode_tps, decode_tps / threads, total_tps);
  std::fprintf(rep, "peak RSS   %.1f MiB\n", static_cast<double>(peak_rss) / (1 << 20));
  for (int64_t i = 0; i < std::min<int64_t>(opt.show_sequences, batch); ++i)
    std::fprintf(rep, "output[%lld] %s\n", static_cast<long long>(i), out["outputs"][i]["text"].get<std::string>().c_str());

  if (!opt.output_json.empty()) {
    const std::string tmp = opt.output_json + ".tmp";
    {
      std::ofstream f(tmp);
      if (!f) throw Error(opt.output_json + ": cannot open for writing");
      f << out.dump(2) << "\n";
      if (!f) throw Error(opt.output_json + ": write failed");
    }
    fs::rename(tmp, opt.output_json);
    std::fprintf(rep, "results    %s\n", opt.output_json.c_str());
  }
  return out;
}

RunConfig demo_run_config(const std::string& asset_dir) {
  std::vector<std::string> extras;
  for (const char* f : kTokenizerFiles)
    if (fs::exists(fs::path(asset_dir) / f)) extras.push_back((fs::path(asset_dir) / f).string());
  const std::string dir = ensure_random_checkpoint(demo_r1_config(), "demo-deepseek-r1-random", extras);
  const std::string yaml = "model_name: deepseek_r1\nmodel_path: \"" + dir +
                           "\"\nexe_mode: eager\nworld_size: 1\n"
                           "model_config:\n  enable_pa: True\n  pa_block_size: 128\n  with_ckpt: True\n"
                           "data_config:\n  dataset: default\n  input_max_len: 256\n  max_new_tokens: 32\n"
                           "  batch_size: 4\n  chat_template: True\n";
  return parse_run_config(yaml, "<built-in demo>");
}

}  // namespace dsinfer
