#include "server/engine_service.h"

#include <malloc.h>

#include <cstdio>

#include "io/error.h"
#include "runtime/process_tuning.h"
#include "server/api_error.h"

namespace dsinfer::server {

std::vector<RequestOutput> RequestChannel::wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || finished_; });
  std::vector<RequestOutput> out;
  out.swap(queue_);
  return out;
}

bool RequestChannel::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finished_ && queue_.empty();
}

void RequestChannel::push(RequestOutput o) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (o.finish != FinishReason::None) finished_ = true;
    queue_.push_back(std::move(o));
  }
  cv_.notify_all();
}

void RequestChannel::fail(std::string message) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::move(message);
    finished_ = true;
  }
  cv_.notify_all();
}

std::string RequestChannel::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

EngineService::EngineService(Engine& engine, const SchedulerConfig& config, bool pin_threads)
    : engine_(engine), config_(config), pin_threads_(pin_threads) {
  capacity_ = engine.cache().geometry().max_pages * engine.cache().geometry().page_size;
  thread_ = std::thread([this] {
    if (pin_threads_) std::fprintf(stderr, "serve: engine thread: %s\n", pin_worker_threads().c_str());
    run();
  });
}

EngineService::~EngineService() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    accepting_ = false;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<RequestChannel> EngineService::submit(SchedulerRequest request, RequestId* id) {
  const int64_t total = static_cast<int64_t>(request.prompt.size()) + request.max_new_tokens;
  if (total > capacity_)
    throw ApiError(400, "prompt (" + std::to_string(request.prompt.size()) + " tokens) + max_tokens (" +
                            std::to_string(request.max_new_tokens) + ") exceeds the KV cache of " +
                            std::to_string(capacity_) + " tokens",
                   "max_tokens");
  auto channel = std::make_shared<RequestChannel>();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!accepting_) throw ApiError(503, "the server is shutting down");
    if (in_flight_ >= config_.max_waiting + config_.max_num_seqs)
      throw ApiError(503, "too many requests in flight (" + std::to_string(in_flight_) + "); retry later");
    *id = next_id_++;
    channels_[*id] = channel;
    inbox_.emplace_back(*id, std::move(request));
    ++in_flight_;
    ++stats_.requests_total;
  }
  cv_.notify_all();
  return channel;
}

void EngineService::cancel(RequestId id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancels_.push_back(id);
  }
  cv_.notify_all();
}

ServiceStats EngineService::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void EngineService::drain(std::chrono::milliseconds grace) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    accepting_ = false;
  }
  const auto until = std::chrono::steady_clock::now() + grace;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_flight_ == 0) return;
      if (std::chrono::steady_clock::now() >= until) {
        for (const auto& [id, ch] : channels_) cancels_.push_back(id);
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  cv_.notify_all();
  for (int i = 0; i < 250; ++i) {  // the cancellations take one step
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_flight_ == 0) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void EngineService::run() {
  Scheduler scheduler(engine_, config_);
  std::map<RequestId, RequestId> service_id;  // scheduler id -> service id
  bool worked = false;
  for (;;) {
    std::deque<std::pair<RequestId, SchedulerRequest>> inbox;
    std::vector<RequestId> cancels;
    // Idle for a quiet second after work: hand the heap's free memory back.
    // Steps keep freed scratch for reuse (keep_scratch_in_heap), so without
    // this every burst would leave its high-water mark in the malloc arenas
    // for good. The quiet second lets the HTTP threads free their last
    // responses first; a trim right at the last token would miss those.
    if (scheduler.idle() && worked) {
      std::unique_lock<std::mutex> lock(mu_);
      const bool more = cv_.wait_for(lock, std::chrono::seconds(1),
                                     [&] { return stopping_ || !inbox_.empty() || !cancels_.empty(); });
      if (!more) {
        lock.unlock();
        malloc_trim(0);
        worked = false;
      }
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !inbox_.empty() || !cancels_.empty() || !scheduler.idle(); });
      worked = true;
      if (stopping_) break;
      inbox.swap(inbox_);
      cancels.swap(cancels_);
    }
    for (auto& [id, req] : inbox) {
      try {
        const RequestId sid = scheduler.submit(std::move(req));
        service_id[sid] = id;
        std::lock_guard<std::mutex> lock(mu_);
        scheduler_id_[id] = sid;
      } catch (const Error& e) {
        std::lock_guard<std::mutex> lock(mu_);
        channels_.at(id)->fail(e.what());
        channels_.erase(id);
        --in_flight_;
      }
    }
    for (RequestId id : cancels) {
      std::lock_guard<std::mutex> lock(mu_);
      const auto it = scheduler_id_.find(id);
      if (it != scheduler_id_.end()) scheduler.cancel(it->second);
    }
    std::vector<RequestOutput> outputs;
    try {
      outputs = scheduler.step();
    } catch (const std::exception& e) {
      // An engine failure ends every request with a message instead of a hang.
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [id, ch] : channels_) ch->fail(std::string("engine error: ") + e.what());
      channels_.clear();
      scheduler_id_.clear();
      in_flight_ = 0;
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (RequestOutput& o : outputs) {
      const auto sit = service_id.find(o.id);
      if (sit == service_id.end()) continue;
      const RequestId id = sit->second;
      const bool done = o.finish != FinishReason::None;
      o.id = id;
      const auto ch = channels_.find(id);
      if (ch != channels_.end()) ch->second->push(std::move(o));
      if (done) {
        service_id.erase(sit);
        channels_.erase(id);
        scheduler_id_.erase(id);
        --in_flight_;
      }
    }
    stats_.scheduler = scheduler.stats();
  }
  // Stopping: whoever still waits hears that it ended.
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, ch] : channels_) ch->push({id, {}, FinishReason::Cancelled});
  channels_.clear();
}

}  // namespace dsinfer::server
