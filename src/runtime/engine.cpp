#include "runtime/engine.h"

#include <chrono>

#include "io/error.h"
#include "kernels/cpu/parallel_tasks.h"
#include "runtime/load_model.h"
#include "runtime/process_tuning.h"

namespace dsinfer {
namespace {

int64_t checked_pages(const EngineConfig& c) {
  if (c.page_size <= 0) throw Error("engine: page_size must be positive, got " + std::to_string(c.page_size));
  if (c.kv_pages <= 0) throw Error("engine: the KV pool needs at least one page, got " + std::to_string(c.kv_pages));
  return c.kv_pages;
}

// Pages the entries need in `cache` beyond what their sequences hold.
int64_t pages_needed_in(const PagedLatentCache& cache, std::span<const StepEntry> entries) {
  int64_t pages = 0;
  for (const StepEntry& e : entries)
    pages += cache.pages_needed(e.seq, cache.length(e.seq) + static_cast<int64_t>(e.tokens.size()));
  return pages;
}

}  // namespace

std::unique_ptr<Engine> Engine::open(const std::string& model_dir, const EngineConfig& config) {
  if (config.pin_threads) pin_worker_threads();  // before the weights are touched
  return std::unique_ptr<Engine>(new Engine(load_model(model_dir, config.precision, config.parallel), config));
}

Engine::Engine(std::unique_ptr<DeepseekModel> owned, const EngineConfig& config) : Engine(*owned, config) {
  owned_ = std::move(owned);
}

Engine::Engine(const DeepseekModel& model, const EngineConfig& config)
    : model_(model), config_(config), cache_(model.make_cache(config.page_size, checked_pages(config))) {
  if (config.mtp) mtp_cache_.emplace(model.make_mtp_cache(config.page_size, kMtpPagesPerPage * config.kv_pages));
  keep_scratch_in_heap();
}

Engine::~Engine() = default;

SequenceId Engine::add_sequence() {
  const SequenceId s = cache_.add_sequence();
  if (mtp_cache_) mtp_seq_[s] = mtp_cache_->add_sequence();
  return s;
}

void Engine::release(SequenceId s) {
  cache_.remove_sequence(s);
  if (const auto it = mtp_seq_.find(s); it != mtp_seq_.end()) {
    mtp_cache_->remove_sequence(it->second);
    mtp_seq_.erase(it);
  }
}

SequenceId Engine::mtp_id(SequenceId s) const {
  if (!mtp_cache_) throw Error("engine: opened without the MTP layer's cache (EngineConfig::mtp)");
  const auto it = mtp_seq_.find(s);
  if (it == mtp_seq_.end()) throw Error("engine: unknown sequence " + std::to_string(s));
  return it->second;
}

int64_t Engine::mtp_length(SequenceId s) const { return mtp_cache_->length(mtp_id(s)); }

void Engine::truncate_mtp(SequenceId s, int64_t new_length) { mtp_cache_->truncate(mtp_id(s), new_length); }

int64_t Engine::pages_needed(std::span<const StepEntry> entries) const { return pages_needed_in(cache_, entries); }

StepResult Engine::step(const StepPlan& plan) { return run_step(plan, cache_, nullptr); }

StepResult Engine::mtp_step(const StepPlan& plan, const float* hidden) {
  StepPlan mapped = plan;
  for (StepEntry& e : mapped.entries) e.seq = mtp_id(e.seq);
  return run_step(mapped, *mtp_cache_, hidden);
}

StepResult Engine::run_step(const StepPlan& plan, PagedLatentCache& cache, const float* mtp_hidden) {
  // Reserve every entry's pages before touching any of them, so a full pool
  // fails the step without leaving a sequence half-extended.
  const int64_t need = pages_needed_in(cache, plan.entries);
  if (need > cache.free_pages())
    throw Error(std::string(mtp_hidden ? "MTP " : "") + "KV cache exhausted: the step needs " + std::to_string(need) +
                " more pages, " + std::to_string(cache.free_pages()) + " of " +
                std::to_string(cache.geometry().max_pages) + " are free");
  std::vector<BatchEntry> batch;
  batch.reserve(plan.entries.size());
  for (const StepEntry& e : plan.entries) {
    if (e.sampler && e.logits == LogitRows::None) throw Error("engine: an entry samples but asks for no logits");
    cache.reserve(e.seq, cache.length(e.seq) + static_cast<int64_t>(e.tokens.size()));
    batch.push_back(BatchEntry{e.seq, e.tokens, e.logits == LogitRows::All, e.logits != LogitRows::None});
  }
  StepResult r;
  const auto t0 = std::chrono::steady_clock::now();
  if (sync_ == StepSync::Follow) throw Error("engine: a follower rank steps only as its leader says");
  if (sync_ == StepSync::Lead) broadcast_step(batch, cache, plan.options, mtp_hidden);
  else agree_on_forward(mtp_hidden ? 2 : 1);
  if (mtp_hidden) {
    r.logits = model_.forward_mtp(batch, mtp_hidden, cache, plan.options, plan.hidden ? &r.hidden : nullptr);
  } else {
    ForwardOptions options = plan.options;
    if (plan.hidden) options.final_hidden = &r.hidden;
    r.logits = model_.forward(batch, cache, options);
  }
  const int64_t vocab = model_.config().vocab_size;
  int64_t row = 0;
  std::vector<int64_t> sample_rows;
  for (const StepEntry& e : plan.entries) {
    r.tokens += static_cast<int64_t>(e.tokens.size());
    const int64_t rows = e.logits == LogitRows::None ? 0 : e.logits == LogitRows::All ? static_cast<int64_t>(e.tokens.size()) : 1;
    r.first_row.push_back(rows ? row : -1);
    sample_rows.push_back(e.sampler ? row + rows - 1 : -1);
    row += rows;
  }
  // Each sequence's sampler is its own state: a batch samples in parallel
  // (a vocabulary pass per sequence is not free at 100K+ logits).
  r.sampled.resize(plan.entries.size());
  cpu::run_parallel_tasks(static_cast<int64_t>(plan.entries.size()), [&](int64_t i) {
    const auto k = static_cast<size_t>(i);
    if (sample_rows[k] >= 0) r.sampled[k] = plan.entries[k].sampler->sample(r.logits.data() + sample_rows[k] * vocab, vocab);
  });
  share_sampled_tokens(r);
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void Engine::agree_on_forward(int64_t kind) {
  ParallelContext* p = model_.parallel();
  if (!p) return;
  Communicator& world = p->world();
  std::vector<int64_t> kinds(static_cast<size_t>(world.size()));
  for (;;) {
    world.all_gather(&kind, sizeof kind, kinds.data());
    int64_t next = 0;
    for (int64_t k : kinds)
      if (k != 0 && (next == 0 || k < next)) next = k;
    if (next == kind) return;  // also: 0 when every rank has finished
    // Another rank's step: take part with no tokens of our own.
    if (next == 2) {
      if (!mtp_cache_) throw Error("engine: a rank runs MTP steps but this one has no MTP cache (same config on every rank)");
      model_.forward_mtp({}, nullptr, *mtp_cache_);
    } else {
      model_.forward({}, cache_);
    }
  }
}

void Engine::finish_collective_steps() { agree_on_forward(0); }

void Engine::share_sampled_tokens(StepResult& r) const {
  ParallelContext* p = model_.parallel();
  if (!p || p->attn_tp().size() == 1 || sync_ != StepSync::Agree) return;
  std::vector<int32_t> ids;
  for (const auto& s : r.sampled) ids.push_back(s ? s->token : -1);
  p->attn_tp().broadcast(ids.data(), static_cast<int64_t>(ids.size() * sizeof(int32_t)), 0);
  for (size_t i = 0; i < ids.size(); ++i)
    if (r.sampled[i]) r.sampled[i]->token = ids[i];
}

// The leader's step message: a header of int64 (kind, options, per entry
// seq / tokens / logits / length / pages), then the token ids and page ids,
// then for an MTP pass its hidden rows.
namespace {

enum : int64_t { kStop = 0, kMain = 1, kMtp = 2 };
constexpr size_t kHeader = 6, kPerEntry = 5;

Communicator& world_of(const DeepseekModel& m) {
  ParallelContext* p = m.parallel();
  if (!p) throw Error("engine: lead/follow needs a parallel job");
  return p->world();
}

}  // namespace

void Engine::lead_followers() {
  ParallelContext* p = model_.parallel();
  if (!p || p->rank() != 0) throw Error("engine: only rank 0 of a parallel job leads");
  if (p->sizes().attn_tp != p->sizes().world)
    throw Error("engine: a led job needs attention TP over the whole world (attn_tp_size " +
                std::to_string(p->sizes().attn_tp) + ", world " + std::to_string(p->sizes().world) + ")");
  sync_ = StepSync::Lead;
}

void Engine::broadcast_step(std::span<const BatchEntry> batch, const PagedLatentCache& cache,
                            const ForwardOptions& o, const float* mtp_hidden) {
  Communicator& world = world_of(model_);
  std::vector<int64_t> header{mtp_hidden ? kMtp : kMain, static_cast<int64_t>(batch.size()), o.moe_chunk_max_len,
                              o.perfect_eplb ? 1 : 0, static_cast<int64_t>(o.attention), o.experts_per_token};
  std::vector<int32_t> ids;
  int64_t tokens = 0;
  for (const BatchEntry& e : batch) {
    const auto& pages = cache.pages_of(e.seq);
    header.insert(header.end(), {e.seq, static_cast<int64_t>(e.tokens.size()), (e.logits ? 1 : 0) + (e.all_logits ? 2 : 0),
                                 cache.length(e.seq), static_cast<int64_t>(pages.size())});
    ids.insert(ids.end(), e.tokens.begin(), e.tokens.end());
    ids.insert(ids.end(), pages.begin(), pages.end());
    tokens += static_cast<int64_t>(e.tokens.size());
  }
  int64_t sizes[2] = {static_cast<int64_t>(header.size()), static_cast<int64_t>(ids.size())};
  world.broadcast(sizes, sizeof sizes, 0);
  world.broadcast(header.data(), sizes[0] * 8, 0);
  world.broadcast(ids.data(), sizes[1] * 4, 0);
  if (mtp_hidden)
    world.broadcast(const_cast<float*>(mtp_hidden), tokens * model_.config().hidden_size * 4, 0);
}

void Engine::stop_followers() {
  if (sync_ != StepSync::Lead) return;
  int64_t sizes[2] = {1, 0};
  Communicator& world = world_of(model_);
  world.broadcast(sizes, sizeof sizes, 0);
  int64_t stop = kStop;
  world.broadcast(&stop, 8, 0);
  sync_ = StepSync::Agree;
}

void Engine::follow_leader() {
  Communicator& world = world_of(model_);
  if (world.rank() == 0) throw Error("engine: rank 0 leads, it does not follow");
  sync_ = StepSync::Follow;
  std::vector<int64_t> header;
  std::vector<int32_t> ids;
  std::vector<float> hidden;
  for (;;) {
    int64_t sizes[2] = {0, 0};
    world.broadcast(sizes, sizeof sizes, 0);
    header.resize(static_cast<size_t>(sizes[0]));
    world.broadcast(header.data(), sizes[0] * 8, 0);
    if (header.at(0) == kStop) break;
    ids.resize(static_cast<size_t>(sizes[1]));
    world.broadcast(ids.data(), sizes[1] * 4, 0);
    const bool mtp = header[0] == kMtp;
    PagedLatentCache& cache = mtp ? *mtp_cache_ : cache_;
    ForwardOptions o;
    o.moe_chunk_max_len = header[2];
    o.perfect_eplb = header[3] != 0;
    o.attention = static_cast<AttentionPath>(header[4]);
    o.experts_per_token = header[5];
    const auto n = static_cast<size_t>(header[1]);
    std::vector<BatchEntry> batch;
    size_t at = 0;
    int64_t tokens = 0;
    for (size_t i = 0; i < n; ++i) {
      const int64_t* h = header.data() + kHeader + i * kPerEntry;
      const auto seq = static_cast<SequenceId>(h[0]);
      const int64_t count = h[1], pages = h[4];
      std::span<const int32_t> toks(ids.data() + at, static_cast<size_t>(count));
      cache.mirror_sequence(seq, std::span<const int32_t>(ids.data() + at + count, static_cast<size_t>(pages)), h[3]);
      at += static_cast<size_t>(count + pages);
      batch.push_back(BatchEntry{seq, toks, (h[2] & 2) != 0, (h[2] & 1) != 0});
      tokens += count;
    }
    if (mtp) {
      hidden.resize(static_cast<size_t>(tokens * model_.config().hidden_size));
      world.broadcast(hidden.data(), static_cast<int64_t>(hidden.size()) * 4, 0);
      model_.forward_mtp(batch, hidden.data(), cache, o);
    } else {
      model_.forward(batch, cache, o);
    }
  }
  sync_ = StepSync::Agree;
}

}  // namespace dsinfer
