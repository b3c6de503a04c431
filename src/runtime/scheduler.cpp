#include "runtime/scheduler.h"

#include <algorithm>
#include <unordered_set>

#include "io/error.h"
#include "runtime/mtp_speculation.h"

namespace dsinfer {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::None: return "";
    case FinishReason::Length: return "length";
    case FinishReason::Stop: return "stop";
    case FinishReason::Cancelled: return "cancelled";
  }
  return "";
}

struct Scheduler::Live {
  RequestId id = 0;
  SchedulerRequest req;
  std::unique_ptr<Sampler> sampler;
  std::vector<int32_t> tokens;  // prompt, then every generated token
  int64_t generated = 0;
  SequenceId seq = -1;          // -1 while waiting
  int64_t computed = 0;         // positions of `tokens` in the cache
  int64_t cached_prompt = 0;    // of the first admission
  bool first_token_sent = false;
  std::vector<Draft> drafts;    // MTP drafts for the next verify step
  std::vector<int32_t> verify;  // this step's [last token, drafts...]
  int64_t pending() const { return static_cast<int64_t>(tokens.size()) - computed; }
};

Scheduler::Scheduler(Engine& engine, const SchedulerConfig& config) : engine_(engine), config_(config) {
  if (config.max_num_seqs <= 0 || config.max_num_batched_tokens <= 0)
    throw Error("scheduler: max_num_seqs and max_num_batched_tokens must be positive");
  const int64_t k = config.speculative_tokens;
  if (k < 0 || k > 3) throw Error("scheduler: speculative_tokens must be 0..3, got " + std::to_string(k));
  if (k > 0 && !engine.has_mtp()) throw Error("scheduler: speculative decoding needs the engine's MTP cache");
  if (config.prefix_caching && k == 0) prefix_ = std::make_unique<PrefixCache>(engine.kv_cache());
  totals_.speculative = SpeculativeStats(k);
}

Scheduler::~Scheduler() {
  for (auto& r : running_) engine_.release(r->seq);
}

RequestId Scheduler::submit(SchedulerRequest request) {
  if (request.prompt.empty()) throw Error("request: empty prompt (no token ids)");
  if (request.max_new_tokens <= 0) throw Error("request: max_tokens must be >= 1");
  validate(request.sampling);
  const int64_t total = static_cast<int64_t>(request.prompt.size()) + request.max_new_tokens;
  const int64_t capacity = engine_.cache().geometry().max_pages * engine_.cache().geometry().page_size;
  if (total > capacity)
    throw Error("request: prompt (" + std::to_string(request.prompt.size()) + " tokens) + max_tokens (" +
                std::to_string(request.max_new_tokens) + ") exceeds the KV cache (" + std::to_string(capacity) +
                " tokens)");
  if (static_cast<int64_t>(waiting_.size()) >= config_.max_waiting)
    throw Error("scheduler: the waiting queue is full (" + std::to_string(config_.max_waiting) + " requests)");
  auto r = std::make_unique<Live>();
  r->id = next_id_++;
  r->sampler = std::make_unique<Sampler>(request.sampling, request.prompt);
  r->tokens = request.prompt;
  r->req = std::move(request);
  waiting_.push_back(std::move(r));
  return waiting_.back()->id;
}

void Scheduler::cancel(RequestId id) {
  for (auto it = running_.begin(); it != running_.end(); ++it)
    if ((*it)->id == id) {
      engine_.release((*it)->seq);
      cancelled_.push_back(std::move(*it));
      running_.erase(it);
      return;
    }
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it)
    if ((*it)->id == id) {
      cancelled_.push_back(std::move(*it));
      waiting_.erase(it);
      return;
    }
}

void Scheduler::cache_prefix(Live& r) {
  if (prefix_ && r.seq >= 0) prefix_->insert(r.seq, std::span<const int32_t>(r.tokens.data(), static_cast<size_t>(r.computed)));
}

void Scheduler::preempt(Live& victim) {
  cache_prefix(victim);  // its full pages stay cached: the recompute is mostly a cache hit
  engine_.release(victim.seq);
  victim.seq = -1;
  victim.computed = 0;
  victim.drafts.clear();
  ++totals_.preemptions;
  auto it = std::find_if(running_.begin(), running_.end(), [&](const auto& p) { return p.get() == &victim; });
  std::unique_ptr<Live> owned = std::move(*it);
  running_.erase(it);
  // Back into the queue in arrival order, ahead of younger requests.
  auto pos = std::find_if(waiting_.begin(), waiting_.end(), [&](const auto& w) { return w->id > owned->id; });
  waiting_.insert(pos, std::move(owned));
}

// Frees pages until `pages` are free: first from the prefix cache, then (when
// keep is given) by preempting the newest running sequences that are not
// already in this step's plan. keep itself goes last.
bool Scheduler::make_room(int64_t pages, const Live* keep) {
  auto free_now = [&] { return engine_.free_pages(); };
  if (free_now() >= pages) return true;
  if (prefix_) prefix_->evict(pages - free_now());
  if (free_now() >= pages || !keep) return free_now() >= pages;
  return false;
}

void Scheduler::admit_and_plan(StepPlan& plan, std::vector<Live*>& planned, std::vector<int64_t>& chunk) {
  const PagedLatentCache& kv = engine_.cache();
  int64_t budget = config_.max_num_batched_tokens;
  std::unordered_set<const Live*> in_plan;
  auto add = [&](Live& r, int64_t n) {
    // Reserved now, so the next entry's room is counted without these pages.
    engine_.kv_cache().reserve(r.seq, r.computed + n);
    if (!r.drafts.empty() && r.pending() == 1) {  // verify: the last token and its drafts, logits for all
      r.verify.assign(1, r.tokens.back());
      for (const Draft& d : r.drafts) r.verify.push_back(d.token);
      plan.entries.push_back({r.seq, r.verify, LogitRows::All, nullptr});
    } else {
      const bool last = r.computed + n == static_cast<int64_t>(r.tokens.size());
      plan.entries.push_back({r.seq, std::span<const int32_t>(r.tokens.data() + r.computed, static_cast<size_t>(n)),
                              last ? LogitRows::Last : LogitRows::None, last ? r.sampler.get() : nullptr});
    }
    planned.push_back(&r);
    chunk.push_back(n);
    in_plan.insert(&r);
    budget -= n;
  };
  auto newest_unplanned = [&](const Live* except) -> Live* {
    for (auto it = running_.rbegin(); it != running_.rend(); ++it)
      if (it->get() != except && !in_plan.count(it->get())) return it->get();
    return nullptr;
  };

  // 1. Decode: every running sequence with its one pending token, oldest first.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Live& r = *running_[i];
    if (r.pending() != 1 || in_plan.count(&r)) {
      ++i;
      continue;
    }
    const int64_t width = 1 + static_cast<int64_t>(r.drafts.size());
    const int64_t need = kv.pages_needed(r.seq, r.computed + width);
    bool fits = make_room(need, &r);
    while (!fits) {  // preempt the newest others, then r itself
      Live* victim = newest_unplanned(&r);
      if (!victim) break;
      const bool victim_before_r = std::find_if(running_.begin(), running_.begin() + static_cast<std::ptrdiff_t>(i),
                                                [&](const auto& p) { return p.get() == victim; }) !=
                                   running_.begin() + static_cast<std::ptrdiff_t>(i);
      preempt(*victim);
      if (victim_before_r) --i;
      fits = make_room(need, &r);
    }
    if (!fits) {
      preempt(r);
      continue;  // running_[i] is now the next one
    }
    add(r, width);
    ++i;
  }
  // A prompt chunk of up to n tokens, shrunk to the pages that can be had
  // without preempting anyone (0: none).
  auto fit_chunk = [&](Live& r, int64_t n) {
    const int64_t ps = kv.geometry().page_size;
    const int64_t spare = engine_.free_pages() + (prefix_ ? prefix_->evictable() : 0);
    n = std::min(n, kv.capacity(r.seq) - r.computed + spare * ps);
    if (n <= 0 || !make_room(kv.pages_needed(r.seq, r.computed + n), nullptr)) return int64_t{0};
    return n;
  };
  // 2. Prompts being prefilled, then new admissions, in chunks under the budget.
  for (auto& p : running_) {
    Live& r = *p;
    if (budget <= 0) break;
    if (in_plan.count(&r) || r.pending() <= 0) continue;
    if (const int64_t n = fit_chunk(r, std::min(r.pending(), budget))) add(r, n);
  }
  while (budget > 0 && !waiting_.empty() && static_cast<int64_t>(running_.size()) < config_.max_num_seqs) {
    Live& r = *waiting_.front();
    r.seq = engine_.add_sequence();
    r.computed = 0;
    if (prefix_)  // at least the last token is computed: its logits start the generation
      r.computed = prefix_->attach(r.seq, r.tokens, static_cast<int64_t>(r.tokens.size()) - 1);
    if (r.generated == 0) r.cached_prompt = r.computed;
    const int64_t n = fit_chunk(r, std::min(r.pending(), budget));
    if (n == 0) {
      engine_.release(r.seq);  // head of the queue waits for pages; arrival order is kept
      r.seq = -1;
      r.computed = 0;
      break;
    }
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
    add(*running_.back(), n);
  }
}

void Scheduler::finish(Live& r, FinishReason reason, std::vector<RequestOutput>& out) {
  cache_prefix(r);
  engine_.release(r.seq);
  r.seq = -1;
  auto o = std::find_if(out.rbegin(), out.rend(), [&](const RequestOutput& x) { return x.id == r.id; });
  if (o == out.rend()) {
    out.push_back({r.id, {}, reason});
  } else {
    o->finish = reason;
  }
  auto it = std::find_if(running_.begin(), running_.end(), [&](const auto& p) { return p.get() == &r; });
  running_.erase(it);
}

std::vector<RequestOutput> Scheduler::step() {
  std::vector<RequestOutput> out;
  for (auto& c : cancelled_) out.push_back({c->id, {}, FinishReason::Cancelled});
  cancelled_.clear();
  if (running_.empty() && waiting_.empty()) return out;

  StepPlan plan;
  std::vector<Live*> planned;
  std::vector<int64_t> chunk;
  admit_and_plan(plan, planned, chunk);
  // Running prompts can hold every page between them with none able to go
  // on: the newest gives its pages back until someone can.
  while (plan.entries.empty() && !running_.empty()) {
    preempt(*running_.back());
    admit_and_plan(plan, planned, chunk);
  }
  if (plan.entries.empty()) return out;
  const int64_t k = config_.speculative_tokens;
  plan.hidden = k > 0;  // the MTP layer's input
  const StepResult result = engine_.step(plan);
  ++totals_.steps;

  const int64_t H = engine_.model().config().hidden_size, vocab = engine_.model().config().vocab_size;
  std::vector<MtpInput> mtp;  // every entry's new positions for the MTP layer (k > 0)
  std::vector<float> mtp_hidden;
  std::vector<std::pair<Live*, FinishReason>> finished;
  int64_t row = 0;  // this entry's first row of result.hidden
  for (size_t e = 0; e < planned.size(); ++e) {
    Live& r = *planned[e];
    const int64_t n = chunk[e];
    const int64_t start = r.computed;
    FinishReason reason = FinishReason::None;
    if (plan.entries[e].logits == LogitRows::All) {  // a verify entry
      std::vector<int32_t> emitted;
      const int64_t accepted = settle_verify(engine_, r.seq, start, *r.sampler, r.drafts,
                                             result.logits.data() + result.first_row[e] * vocab, vocab,
                                             [&](const SampledToken& tok) {
                                               emitted.push_back(tok.token);
                                               reason = take(r, tok, out);
                                               return reason == FinishReason::None;
                                             },
                                             totals_.speculative);
      r.computed = start + 1 + accepted;
      if (reason == FinishReason::None) {
        mtp.push_back({r.seq, std::move(emitted), r.sampler.get(), &r.drafts});
        mtp_hidden.insert(mtp_hidden.end(), result.hidden.begin() + row * H,
                          result.hidden.begin() + (row + accepted + 1) * H);
      }
    } else {
      r.computed += n;
      if (result.sampled[e]) {
        if (r.generated == 0) {
          totals_.prompt_tokens += static_cast<int64_t>(r.req.prompt.size());
          cache_prefix(r);  // the prompt's pages, for requests that share its prefix
        }
        reason = take(r, *result.sampled[e], out);
      }
      if (k > 0 && reason == FinishReason::None) {
        // MTP position i pairs t[i+1] (the next prompt token, or the one just sampled) with H[i].
        // Drafts only where a token was just sampled; a prompt chunk before the last only fills the MTP cache.
        mtp.push_back({r.seq, std::vector<int32_t>(r.tokens.begin() + start + 1, r.tokens.begin() + start + n + 1),
                       result.sampled[e] ? r.sampler.get() : nullptr, &r.drafts});
        mtp_hidden.insert(mtp_hidden.end(), result.hidden.begin() + row * H, result.hidden.begin() + (row + n) * H);
      }
    }
    row += static_cast<int64_t>(plan.entries[e].tokens.size());
    if (reason != FinishReason::None) finished.emplace_back(&r, reason);
  }
  if (!mtp.empty()) run_mtp_drafts(engine_, k, std::move(mtp), std::move(mtp_hidden));
  for (auto& [r, reason] : finished) finish(*r, reason, out);
  return out;
}

FinishReason Scheduler::take(Live& r, const SampledToken& tok, std::vector<RequestOutput>& out) {
  r.tokens.push_back(tok.token);
  ++r.generated;
  ++totals_.generated_tokens;
  if (out.empty() || out.back().id != r.id) {
    out.push_back({r.id, {}, FinishReason::None});
    if (!r.first_token_sent) {
      out.back().prompt_tokens = static_cast<int64_t>(r.req.prompt.size());
      out.back().cached_prompt_tokens = r.cached_prompt;
      r.first_token_sent = true;
    }
  }
  out.back().tokens.push_back(tok);
  const auto& stops = r.req.stop_token_ids;
  if (std::find(stops.begin(), stops.end(), tok.token) != stops.end()) return FinishReason::Stop;
  if (r.generated >= r.req.max_new_tokens) return FinishReason::Length;
  return FinishReason::None;
}

SchedulerStats Scheduler::stats() const {
  SchedulerStats s = totals_;
  s.running = static_cast<int64_t>(running_.size());
  s.waiting = static_cast<int64_t>(waiting_.size());
  s.pages_total = engine_.cache().geometry().max_pages;
  const int64_t only_cache = prefix_ ? prefix_->evictable() : 0;
  s.pages_held_by_requests = engine_.pages_in_use() - only_cache;
  s.pages_cached = prefix_ ? prefix_->cached_pages() : 0;
  if (prefix_) {
    s.prefix_queried_tokens = prefix_->queried_tokens();
    s.prefix_hit_tokens = prefix_->hit_tokens();
  }
  return s;
}

}  // namespace dsinfer
