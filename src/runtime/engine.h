#pragma once
// The persistent engine under every command: one model, one KV page pool,
// the backend's workspaces and the worker threads, kept for the life of the
// process. step(plan) is the one entry point: a plan lists, per sequence,
// its new tokens (a prompt chunk, one decode token, or a token plus drafts)
// and which positions need logits; the engine reserves the pages for all of
// them first (all or nothing), runs one forward and returns logits and/or
// tokens sampled by each sequence's own Sampler. Offline runs, generate,
// logits, and later the scheduler and server drive the same step.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/deepseek_model.h"
#include "runtime/sampler.h"

namespace dsinfer {

struct EngineConfig {
  int64_t page_size = 128;  // tokens per KV page
  int64_t kv_pages = 0;     // pool capacity in pages (> 0)
  std::optional<ComputePrecision> precision;  // open(): nullopt = the checkpoint's default
  bool pin_threads = false;                   // pin worker threads to cores at start
  // A latent cache for the MTP layer too (same page size, kMtpPagesPerPage
  // times the pages; a page of it holds one layer).
  bool mtp = false;
  // open(): this rank's part of a parallel job's model (null: one process).
  std::shared_ptr<ParallelContext> parallel;
};

// A sequence's MTP entries run up to next_n - 1 chained drafts past its main
// length, at most one page more per sequence: twice the main pool's page
// count always holds them.
inline constexpr int64_t kMtpPagesPerPage = 2;

enum class LogitRows : uint8_t { None, Last, All };

struct StepEntry {
  SequenceId seq = 0;
  std::span<const int32_t> tokens;
  LogitRows logits = LogitRows::Last;
  // Samples the next token from the entry's last row (needs logits != None).
  Sampler* sampler = nullptr;
};

struct StepPlan {
  std::vector<StepEntry> entries;
  ForwardOptions options;
  bool hidden = false;  // return every new token's final-normed hidden state (the MTP input)
};

struct StepResult {
  std::vector<float> logits;             // the requested rows of all entries, in order, [rows, vocab]
  std::vector<int64_t> first_row;        // per entry: its first row in logits (-1: none)
  std::vector<std::optional<SampledToken>> sampled;  // per entry, when it had a sampler
  double ms = 0;                         // wall time of the forward and the sampling
  int64_t tokens = 0;                    // new tokens processed
  std::vector<float> hidden;             // [tokens, hidden_size] when the plan asked (main step), or
                                         // shared_head.norm of the MTP outputs (mtp_step)
};

class Engine {
 public:
  // Maps the checkpoint on the CPU backend and owns the model.
  static std::unique_ptr<Engine> open(const std::string& model_dir, const EngineConfig& config);
  // Serves a model owned by the caller (it must outlive the engine).
  Engine(const DeepseekModel& model, const EngineConfig& config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const DeepseekModel& model() const { return model_; }
  const PagedLatentCache& cache() const { return cache_; }
  // For the prefix cache, which shares and holds pages of this pool.
  PagedLatentCache& kv_cache() { return cache_; }
  const EngineConfig& config() const { return config_; }

  SequenceId add_sequence();
  // Frees the sequence; its pages return to the pool.
  void release(SequenceId s);
  int64_t length(SequenceId s) const { return cache_.length(s); }
  // Rewinds a sequence to its first new_length positions (e.g. rejected drafts).
  void truncate(SequenceId s, int64_t new_length) { cache_.truncate(s, new_length); }

  // Pages the plan's entries need beyond what they hold, and whether the
  // pool has them ("can this step / request fit").
  int64_t pages_needed(std::span<const StepEntry> entries) const;
  bool can_fit(std::span<const StepEntry> entries) const { return pages_needed(entries) <= cache_.free_pages(); }
  // A new request of `tokens` positions, whole (prompt + generation).
  bool can_fit_request(int64_t tokens) const { return cache_.pages_for(tokens) <= cache_.free_pages(); }
  int64_t free_pages() const { return cache_.free_pages(); }
  int64_t pages_in_use() const { return cache_.pages_in_use(); }

  StepResult step(const StepPlan& plan);

  // The MTP layer over its own cache (EngineConfig::mtp): entry k's tokens
  // pair with rows of `hidden` (packed in entry order, one per token) as
  // DeepseekModel::forward_mtp describes; same sequence ids as the main
  // cache. Logits and samplers as step(); result.hidden = the normalized
  // outputs when plan.hidden.
  StepResult mtp_step(const StepPlan& plan, const float* hidden);
  int64_t mtp_length(SequenceId s) const;
  void truncate_mtp(SequenceId s, int64_t new_length);
  bool has_mtp() const { return mtp_cache_.has_value(); }

  // In a parallel job every forward is collective, but each rank's loop has
  // its own work: a rank done with its own calls this, and runs the empty
  // forwards the others' steps need until every rank has called it. (Each
  // step agrees first on which kind of forward runs; see run_step.) A
  // no-op in a single process.
  void finish_collective_steps();

  // A server across ranks (attention TP over the whole world, so every rank
  // holds every sequence): rank 0's engine leads, broadcasting each step's
  // plan with its page tables; the others follow it, keeping no allocator
  // state of their own. follow_leader() returns when the leader stops them.
  void lead_followers();
  void follow_leader();
  void stop_followers();

 private:
  enum class StepSync : uint8_t { Agree, Lead, Follow };
  // Leader: the plan of the forward about to run on `cache` (page tables
  // already reserved), and for an MTP pass its hidden rows.
  void broadcast_step(std::span<const BatchEntry> batch, const PagedLatentCache& cache, const ForwardOptions& options,
                      const float* mtp_hidden);
  // Blocks until every rank is ready for a forward of `kind` (1 main, 2 MTP;
  // 0 = finished), running empty forwards of the kinds others need first.
  void agree_on_forward(int64_t kind);
  // Sampled tokens of the attention TP group's first rank, so its replicas never drift.
  void share_sampled_tokens(StepResult& r) const;
  SequenceId mtp_id(SequenceId s) const;
  StepResult run_step(const StepPlan& plan, PagedLatentCache& cache, const float* mtp_hidden);
  std::unordered_map<SequenceId, SequenceId> mtp_seq_;  // main id -> MTP cache id

  Engine(std::unique_ptr<DeepseekModel> owned, const EngineConfig& config);

  StepSync sync_ = StepSync::Agree;
  std::unique_ptr<DeepseekModel> owned_;
  const DeepseekModel& model_;
  EngineConfig config_;
  PagedLatentCache cache_;
  std::optional<PagedLatentCache> mtp_cache_;
};

}  // namespace dsinfer
