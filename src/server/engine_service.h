#pragma once
// The scheduler behind the HTTP threads: one engine thread owns the
// Scheduler and steps it while there is work; HTTP handlers submit requests
// and read each request's outputs from its channel. Handlers never touch
// the scheduler, so the engine needs no locks in its hot loop beyond the
// hand-over of submissions, cancellations and outputs.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/scheduler.h"

namespace dsinfer::server {

// One request's outputs, as the engine thread produces them.
class RequestChannel {
 public:
  // Waits up to `timeout` for outputs; returns those that arrived (maybe none).
  std::vector<RequestOutput> wait(std::chrono::milliseconds timeout);
  bool finished() const;
  void push(RequestOutput o);
  void fail(std::string message);
  // Set when the engine could not run the request (a message for the client).
  std::string error() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<RequestOutput> queue_;
  bool finished_ = false;
  std::string error_;
};

struct ServiceStats {
  SchedulerStats scheduler;
  int64_t requests_total = 0;
};

class EngineService {
 public:
  // pin_threads: the engine thread pins itself and its OpenMP team to cores
  // (the caller must not be pinned: threads inherit their creator's mask, so
  // a pinned main thread would put the HTTP threads and the whole team on
  // one core).
  EngineService(Engine& engine, const SchedulerConfig& config, bool pin_threads = false);
  ~EngineService();  // stops the engine thread; unfinished requests end as cancelled

  // Queues a request; ApiError 400 when it can never fit, 503 when the queue
  // is full or the service is stopping.
  std::shared_ptr<RequestChannel> submit(SchedulerRequest request, RequestId* id);
  void cancel(RequestId id);
  ServiceStats stats() const;
  // Stops accepting; waits up to `grace` for in-flight requests, then
  // cancels the rest.
  void drain(std::chrono::milliseconds grace);
  int64_t kv_capacity_tokens() const { return capacity_; }

 private:
  void run();

  Engine& engine_;
  SchedulerConfig config_;
  int64_t capacity_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<RequestId, SchedulerRequest>> inbox_;
  std::vector<RequestId> cancels_;
  std::map<RequestId, std::shared_ptr<RequestChannel>> channels_;
  std::map<RequestId, RequestId> scheduler_id_;  // service id -> scheduler id
  RequestId next_id_ = 1;
  bool stopping_ = false, accepting_ = true;
  int64_t in_flight_ = 0;
  ServiceStats stats_;
  bool pin_threads_ = false;
  std::thread thread_;
};

}  // namespace dsinfer::server
