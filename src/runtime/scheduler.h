#pragma once
// Continuous batching on the Engine. Every step packs the decode tokens of
// the running sequences first (so time per output token stays flat while
// prompts arrive), then chunks of prompts still being prefilled and of
// newly admitted requests, under a token budget (chunked prefill). A
// request is admitted when the pool has pages for its next chunk (free or
// held only by the prefix cache); when decode needs a page and none is
// left, the newest running sequence is preempted: its pages are freed and it
// is recomputed later from its prompt and the tokens it already produced
// (its sampler keeps its random stream), so a request never fails for lack
// of pages once it fits the pool on its own.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "runtime/engine.h"
#include "runtime/mtp_speculation.h"
#include "runtime/prefix_cache.h"
#include "runtime/sampler.h"

namespace dsinfer {

using RequestId = int64_t;

struct SchedulerConfig {
  int64_t max_num_seqs = 256;            // sequences running at once
  int64_t max_num_batched_tokens = 2048; // new tokens per step (decode + prompt chunks)
  bool prefix_caching = true;
  int64_t max_waiting = 4096;            // queued requests; submit refuses beyond
  // MTP drafts per decode step (0: off; 1-3 need the engine's MTP cache).
  // The MTP layer's cache has no prefix sharing, so this turns prefix caching off.
  int64_t speculative_tokens = 0;
};

struct SchedulerRequest {
  std::vector<int32_t> prompt;
  int64_t max_new_tokens = 16;
  SamplingParams sampling;
  std::vector<int32_t> stop_token_ids;  // ending tokens (EOS ids unless ignore_eos)
};

enum class FinishReason : uint8_t { None, Length, Stop, Cancelled };
const char* finish_reason_name(FinishReason r);  // "" | "length" | "stop" | "cancelled"

// What one step produced for one request.
struct RequestOutput {
  RequestId id = 0;
  std::vector<SampledToken> tokens;  // new tokens this step (0, 1, or with MTP up to 1 + drafts)
  FinishReason finish = FinishReason::None;
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // prompt positions served from the prefix cache
};

struct SchedulerStats {
  int64_t running = 0, waiting = 0;
  int64_t pages_total = 0, pages_held_by_requests = 0, pages_cached = 0;
  int64_t preemptions = 0;
  int64_t prompt_tokens = 0, generated_tokens = 0;
  int64_t prefix_queried_tokens = 0, prefix_hit_tokens = 0;
  int64_t steps = 0;
  SpeculativeStats speculative;  // MTP speculative decoding (next_n 0: empty)
};

class Scheduler {
 public:
  Scheduler(Engine& engine, const SchedulerConfig& config);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request. Throws Error when it can never fit the pool on its own
  // (prompt + max_new_tokens over the pool), its sampling is invalid, the
  // prompt is empty, or the waiting queue is full.
  RequestId submit(SchedulerRequest request);
  // Ends a request: its pages are freed now; the next step reports it
  // finished with FinishReason::Cancelled. Unknown ids are ignored.
  void cancel(RequestId id);
  bool idle() const { return running_.empty() && waiting_.empty() && cancelled_.empty(); }
  // Runs one engine step (nothing when idle) and reports each request that
  // produced a token or finished.
  std::vector<RequestOutput> step();
  SchedulerStats stats() const;

 private:
  struct Live;
  void admit_and_plan(StepPlan& plan, std::vector<Live*>& planned, std::vector<int64_t>& chunk);
  bool make_room(int64_t pages, const Live* keep);
  void preempt(Live& victim);
  void finish(Live& r, FinishReason reason, std::vector<RequestOutput>& out);
  void cache_prefix(Live& r);
  // Takes a sampled token; returns the finish reason it causes (None: more to come).
  FinishReason take(Live& r, const SampledToken& tok, std::vector<RequestOutput>& out);

  Engine& engine_;
  SchedulerConfig config_;
  std::unique_ptr<PrefixCache> prefix_;
  std::vector<std::unique_ptr<Live>> running_;  // admitted, oldest first
  std::deque<std::unique_ptr<Live>> waiting_;   // arrival order (preempted ones back in front)
  std::vector<std::unique_ptr<Live>> cancelled_;
  RequestId next_id_ = 1;
  SchedulerStats totals_;
};

}  // namespace dsinfer
