#pragma once
// The communicator interface every parallel mode is written against: a group
// of ranks and the collectives the model needs (all-to-all(v) for expert
// dispatch and combine, all-reduce and all-gather for tensor parallelism).
// One process (SelfCommunicator) and MPI implement it today; NCCL can later.
// Every collective counts its bytes and time per kind, for the run report.
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace dsinfer {

// What a collective is for (the report's rows).
enum class CommKind : uint8_t { Dispatch, Combine, AllReduce, AllGather, Control };
inline constexpr size_t kCommKinds = 5;
const char* comm_kind_name(CommKind k);  // "dispatch" | "combine" | "all_reduce" | "all_gather" | "control"

struct CommCounters {
  std::array<int64_t, kCommKinds> bytes_sent{}, bytes_received{}, calls{};
  std::array<double, kCommKinds> seconds{};
  double total_seconds() const;
  int64_t total_bytes_sent() const;
  CommCounters& operator+=(const CommCounters& o);
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The sub-group of the ranks passing the same color, ordered by key.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;

  // In place, element-wise sum over the group (every rank gets the same sum).
  void all_reduce_sum(float* data, int64_t n, CommKind kind = CommKind::AllReduce);
  // In place, element-wise max.
  void all_reduce_max(int64_t* data, int64_t n, CommKind kind = CommKind::Control);
  // recv = every rank's `bytes` bytes, in rank order.
  void all_gather(const void* send, int64_t bytes, void* recv, CommKind kind = CommKind::Control);
  // recv = rank r's recv_bytes[r] bytes, in rank order (recv_bytes known to all).
  void all_gather_v(const void* send, int64_t bytes, void* recv, std::span<const int64_t> recv_bytes,
                    CommKind kind = CommKind::AllGather);
  // Rank r's block send_bytes[r] goes to rank r; recv holds the blocks from
  // every rank in rank order, recv_bytes[r] from rank r.
  void all_to_all_v(const void* send, std::span<const int64_t> send_bytes, void* recv,
                    std::span<const int64_t> recv_bytes, CommKind kind);
  void broadcast(void* data, int64_t bytes, int root, CommKind kind = CommKind::Control);
  void barrier();

  // Counters of this communicator's calls (sub-groups count their own).
  const CommCounters& counters() const { return counters_; }
  void reset_counters() { counters_ = {}; }

 protected:
  virtual void do_all_reduce_sum(float* data, int64_t n) = 0;
  virtual void do_all_reduce_max(int64_t* data, int64_t n) = 0;
  virtual void do_all_gather_v(const void* send, int64_t bytes, void* recv, std::span<const int64_t> recv_bytes) = 0;
  virtual void do_all_to_all_v(const void* send, std::span<const int64_t> send_bytes, void* recv,
                               std::span<const int64_t> recv_bytes) = 0;
  virtual void do_broadcast(void* data, int64_t bytes, int root) = 0;
  virtual void do_barrier() = 0;

 private:
  void count(CommKind kind, int64_t sent, int64_t received, double seconds);
  CommCounters counters_;
};

// The group of one: every collective is a copy.
class SelfCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::unique_ptr<Communicator> split(int color, int key) override;

 protected:
  void do_all_reduce_sum(float*, int64_t) override {}
  void do_all_reduce_max(int64_t*, int64_t) override {}
  void do_all_gather_v(const void* send, int64_t bytes, void* recv, std::span<const int64_t> recv_bytes) override;
  void do_all_to_all_v(const void* send, std::span<const int64_t> send_bytes, void* recv,
                       std::span<const int64_t> recv_bytes) override;
  void do_broadcast(void*, int64_t, int) override {}
  void do_barrier() override {}
};

}  // namespace dsinfer
