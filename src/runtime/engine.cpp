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
  agree_on_forward(mtp_hidden ? 2 : 1);
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
  if (!p || p->attn_tp().size() == 1) return;
  std::vector<int32_t> ids;
  for (const auto& s : r.sampled) ids.push_back(s ? s->token : -1);
  p->attn_tp().broadcast(ids.data(), static_cast<int64_t>(ids.size() * sizeof(int32_t)), 0);
  for (size_t i = 0; i < ids.size(); ++i)
    if (r.sampled[i]) r.sampled[i]->token = ids[i];
}

}  // namespace dsinfer
