// dsinfer serve: the OpenAI-compatible server over one persistent engine.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands/command.h"
#include "cli/commands/engine_options.h"
#include "cli/commands/parallel_setup.h"
#include "io/error.h"
#include "io/run_config.h"
#include "runtime/load_model.h"
#include "runtime/memory_plan.h"
#include "runtime/offline_job.h"
#include "runtime/parallel_offline.h"
#include "server/engine_service.h"
#include "server/openai_server.h"

namespace dsinfer::cli {
namespace {

struct ServeOpts {
  std::string model, config, host = "127.0.0.1", served_name, api_key, reasoning_parser = "auto";
  int port = 8000;
  int64_t max_num_seqs = 64, max_num_batched_tokens = 2048, kv_pages = 0, max_model_len = 0, page_size = 128;
  int64_t speculative_tokens = 0;
  double kv_memory_gib = 0;
  bool no_prefix_caching = false;
  double grace_s = 10;
  EngineOptions engine;
  ParallelFlags parallel;
};

uint64_t safetensors_bytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".safetensors") n += e.file_size();
  return n;
}

int run_serve(ServeOpts o) {
  // Under mpirun rank 0 serves HTTP and schedules; every step's plan goes to
  // the other ranks, which run the same forward on their part of the model.
  auto parallel = open_parallel(o.parallel);
  const bool root = is_root();
  // Block the stop signals before any thread starts: one thread waits for them
  // (on rank 0; the followers wait for rank 0 to stop them).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ModelConfig mc;
  CacheGeometry g;
  uint64_t page_bytes = 0, weights = 0;
  int64_t pages = o.kv_pages;
  agreed([&] {
    if (parallel && parallel->sizes().attn_tp != parallel->sizes().world)
      throw Error("serve under mpirun needs --attn-tp-size equal to the world size " +
                  std::to_string(parallel->sizes().world) + " (every rank holds every sequence; attention data "
                  "parallel serving is not implemented), got " + std::to_string(parallel->sizes().attn_tp));
    if (!o.config.empty()) {  // the run YAML's model keys
      const RunConfig rc = load_run_config(o.config);
      if (o.model.empty()) {
        std::vector<std::string> notes;
        o.model = resolve_model_dir(rc, notes);  // with_ckpt: False serves random weights of its config
        if (root)
          for (const auto& n : notes) std::fprintf(stderr, "serve: %s\n", n.c_str());
      }
      if (o.served_name.empty()) o.served_name = rc.model_name;
      if (rc.model.enable_pa) o.page_size = rc.model.pa_block_size;
    }
    if (o.model.empty()) {  // as `dsinfer run`: the built-in random-weight R1-shaped demo
      if (root) std::fprintf(stderr, "serve: no --model given: serving the built-in demo (random weights, real tokenizer)\n");
      o.model = demo_run_config(std::string(DSINFER_SOURCE_DIR) + "/assets/deepseek-r1").model_path;
      if (o.served_name.empty()) o.served_name = "dsinfer-demo-r1";
    }
    if (o.api_key.empty())
      if (const char* k = std::getenv("DSINFER_API_KEY")) o.api_key = k;
    if (o.served_name.empty()) o.served_name = std::filesystem::path(o.model).lexically_normal().filename().string();
    if (o.served_name.empty()) o.served_name = std::filesystem::absolute(o.model).parent_path().filename().string();
    if (o.kv_pages > 0 && o.kv_memory_gib > 0) throw Error("serve: give --kv-cache-memory or --kv-cache-pages, not both");
    if (o.reasoning_parser != "auto" && o.reasoning_parser != "none" && o.reasoning_parser != "deepseek_r1")
      throw Error("serve: --reasoning-parser must be auto, deepseek_r1 or none, got '" + o.reasoning_parser + "'");

    // Hundreds of HTTP threads would each get a malloc arena, and with the
    // engine's keep-freed-memory policy every arena keeps its high-water mark:
    // a few arenas bound the server's memory to what it needs at once.
    mallopt(M_ARENA_MAX, 4);

    mc = load_model_config(o.model);
    g = CacheGeometry{mc.num_hidden_layers, mc.kv_lora_rank, mc.qk_rope_head_dim, o.page_size, 1,
                      mc.quant.kv_cache_int8};
    page_bytes = PagedLatentCache(g).bytes_per_page();
    // A rank holds about its share of the weights (its experts, heads, vocabulary rows).
    weights = safetensors_bytes(o.model) / static_cast<uint64_t>(parallel ? parallel->sizes().world : 1);
    const uint64_t available = available_memory_bytes() / static_cast<uint64_t>(ranks_on_this_node());
    if (pages <= 0) {
      double gib = o.kv_memory_gib;
      if (gib <= 0) {  // default: half of what the weights leave, at most 4 GiB
        const double spare = available > weights ? static_cast<double>(available - weights) / (1u << 30) : 0.0;
        gib = std::min(4.0, spare / 2);
      }
      pages = static_cast<int64_t>(gib * (1u << 30) / static_cast<double>(page_bytes));
    }
    if (pages <= 0) throw Error("serve: the KV cache budget holds no page (" + std::to_string(page_bytes) + " bytes each)");
  });
  // The leader's page ids must exist in every rank's pool: the smallest budget wins.
  if (parallel) {
    int64_t negative = -pages;
    parallel->world().all_reduce_max(&negative, 1);
    pages = -negative;
  }
  std::unique_ptr<DeepseekModel> model;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Tokenizer> tokenizer;
  agreed([&] {
    if (o.max_model_len <= 0) o.max_model_len = std::min<int64_t>(mc.max_position_embeddings, pages * o.page_size);
    if (o.max_model_len > mc.max_position_embeddings)
      throw Error("serve: --max-model-len " + std::to_string(o.max_model_len) + " exceeds the model's " +
                  "max_position_embeddings (" + std::to_string(mc.max_position_embeddings) + ", " + mc.path + ")");
    if (o.max_model_len > pages * o.page_size)
      throw Error("serve: --max-model-len " + std::to_string(o.max_model_len) + " exceeds the KV cache (" +
                  std::to_string(pages) + " pages of " + std::to_string(o.page_size) + " tokens)");
    MemoryPlan plan = plan_memory(mc, weights, 1, o.max_num_batched_tokens, o.max_model_len, o.page_size);
    plan.kv_cache_bytes = static_cast<uint64_t>(pages) * page_bytes;
    if (o.speculative_tokens > 0) {  // the MTP layer's cache: one layer per page, kMtpPagesPerPage x the pages
      CacheGeometry g1 = g;
      g1.n_layers = 1;
      plan.kv_cache_bytes += static_cast<uint64_t>(kMtpPagesPerPage * pages) * PagedLatentCache(g1).bytes_per_page();
    }
    if (root)
      std::fprintf(stderr, "serve: memory plan: %s; KV cache %lld pages of %lld tokens = %lld tokens\n",
                 plan.describe().c_str(), static_cast<long long>(pages), static_cast<long long>(o.page_size),
                 static_cast<long long>(pages * o.page_size));
    if (plan.available_bytes > 0 && plan.total() > plan.available_bytes)
      throw Error("serve: does not fit in memory: needs " + plan.describe() +
                  "; lower --kv-cache-memory / --kv-cache-pages or --max-num-batched-tokens");

    // Pinning happens on the engine thread (EngineService), not here: a pinned
    // main thread would confine every thread it starts to its one core.
    EngineOptions unpinned = o.engine;
    unpinned.no_pin = true;
    const auto precision = apply_engine_options(unpinned, "serve", root);
    if (root) tokenizer = load_tokenizer(o.model);
    EngineConfig ec{o.page_size, pages, precision};
    ec.mtp = o.speculative_tokens > 0;
    model = load_model(o.model, precision, parallel);
    model->allow_nonfinite(o.engine.allow_nonfinite);
    if (ec.mtp && !model->has_mtp())
      throw Error("serve: --speculative-tokens " + std::to_string(o.speculative_tokens) + ": " + o.model +
                  " has no MTP layer (model.layers." + std::to_string(mc.num_hidden_layers) + ".*)");
    engine = std::make_unique<Engine>(*model, ec);
  });
  if (parallel && !root) {
    engine->follow_leader();
    return 0;
  }
  // Whatever ends the server, the followers are stopped after the engine thread is gone.
  struct StopFollowers {
    Engine& engine;
    ~StopFollowers() { engine.stop_followers(); }
  } stop_followers{*engine};
  if (parallel) engine->lead_followers();
  const int64_t speculative = o.speculative_tokens;
  if (speculative > 0 && !o.no_prefix_caching)
    std::fprintf(stderr, "serve: --speculative-tokens: prefix caching is off (the MTP layer's cache has no prefix sharing)\n");
  SchedulerConfig sched{o.max_num_seqs, o.max_num_batched_tokens, !o.no_prefix_caching};
  sched.speculative_tokens = o.speculative_tokens;
  server::EngineService service(*engine, sched, !o.engine.no_pin);
  server::ServerConfig sc;
  sc.host = o.host;
  sc.port = o.port;
  sc.served_model_name = o.served_name;
  sc.api_key = o.api_key;
  sc.max_model_len = o.max_model_len;
  sc.reasoning_parser = o.reasoning_parser != "none";
  server::OpenAiServer http(sc, *tokenizer, engine->model().config(), service);
  const int port = http.bind();
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::fprintf(stderr, "serve: signal %d: stopping\n", sig);
    http.stop();
  });
  std::fprintf(stderr, "serve: model '%s' (%s), max_model_len %lld, prefix caching %s\n", o.served_name.c_str(),
               o.model.c_str(), static_cast<long long>(o.max_model_len), o.no_prefix_caching ? "off" : "on");
  std::fprintf(stderr, "serve: listening on http://%s:%d\n", o.host.c_str(), port);
  const bool ok = http.serve();
  if (!ok) {  // the socket failed: wake the signal thread and leave
    pthread_kill(stopper.native_handle(), SIGTERM);
  }
  stopper.join();
  service.drain(std::chrono::milliseconds(static_cast<int64_t>(o.grace_s * 1000)));
  std::fprintf(stderr, "serve: stopped\n");
  return ok ? 0 : 2;
}

}  // namespace

void register_serve_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<ServeOpts>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server (continuous batching, prefix caching)");
  cmd->add_option("--model", o->model,
                  "Model directory (config.json + safetensors + tokenizer files); omit for the built-in demo");
  cmd->add_option("--config", o->config, "A run YAML: its model_path, model_name and pa_block_size are used");
  cmd->add_option("--host", o->host, "Address to bind")->capture_default_str();
  cmd->add_option("--port", o->port, "Port (0: any free port, printed at start)")->capture_default_str();
  cmd->add_option("--served-model-name", o->served_name, "Model name clients use (default: the directory name)");
  cmd->add_option("--api-key", o->api_key, "Require Authorization: Bearer KEY (also $DSINFER_API_KEY)");
  cmd->add_option("--max-num-seqs", o->max_num_seqs, "Sequences running at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-num-batched-tokens", o->max_num_batched_tokens, "New tokens per engine step (chunked prefill)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--kv-cache-memory", o->kv_memory_gib, "KV cache budget in GiB (default: half the free memory, <= 4)");
  cmd->add_option("--kv-cache-pages", o->kv_pages, "KV cache budget in pages");
  cmd->add_option("--page-size", o->page_size, "KV cache page size in tokens")
      ->check(CLI::Range(int64_t{1}, int64_t{65536}))
      ->capture_default_str();
  cmd->add_option("--max-model-len", o->max_model_len, "Prompt + completion tokens per request (default: the model's, within the KV cache)");
  cmd->add_flag("--no-prefix-caching", o->no_prefix_caching, "Do not reuse KV pages of shared prompt prefixes");
  cmd->add_option("--speculative-tokens", o->speculative_tokens,
                  "MTP speculative decoding: drafts per step (1-3; 0: off). Needs the checkpoint's MTP layer; turns "
                  "prefix caching off (the MTP cache has no prefix sharing yet)")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  cmd->add_option("--reasoning-parser", o->reasoning_parser,
                  "auto (split <think> for R1-style templates) | deepseek_r1 | none")
      ->capture_default_str();
  cmd->add_option("--shutdown-grace", o->grace_s, "Seconds in-flight requests may finish after SIGINT/SIGTERM")
      ->capture_default_str();
  add_engine_options(cmd, o->engine);
  add_parallel_flags(cmd, o->parallel);
  cmd->callback([&action, o] { action = [o] { return run_serve(*o); }; });
}

}  // namespace dsinfer::cli
