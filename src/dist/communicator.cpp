#include "dist/communicator.h"

#include <chrono>
#include <cstring>
#include <numeric>
#include <vector>

#include "io/error.h"

namespace dsinfer {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int64_t sum(std::span<const int64_t> v) { return std::accumulate(v.begin(), v.end(), int64_t{0}); }

}  // namespace

const char* comm_kind_name(CommKind k) {
  switch (k) {
    case CommKind::Dispatch: return "dispatch";
    case CommKind::Combine: return "combine";
    case CommKind::AllReduce: return "all_reduce";
    case CommKind::AllGather: return "all_gather";
    case CommKind::Control: return "control";
  }
  return "?";
}

double CommCounters::total_seconds() const { return std::accumulate(seconds.begin(), seconds.end(), 0.0); }

int64_t CommCounters::total_bytes_sent() const {
  return std::accumulate(bytes_sent.begin(), bytes_sent.end(), int64_t{0});
}

CommCounters& CommCounters::operator+=(const CommCounters& o) {
  for (size_t k = 0; k < kCommKinds; ++k) {
    bytes_sent[k] += o.bytes_sent[k];
    bytes_received[k] += o.bytes_received[k];
    calls[k] += o.calls[k];
    seconds[k] += o.seconds[k];
  }
  return *this;
}

void Communicator::count(CommKind kind, int64_t sent, int64_t received, double seconds) {
  const auto k = static_cast<size_t>(kind);
  counters_.bytes_sent[k] += sent;
  counters_.bytes_received[k] += received;
  counters_.calls[k] += 1;
  counters_.seconds[k] += seconds;
}

// Bytes "sent" count what leaves this rank for other ranks (a ring or tree
// moves more on the wire; this is the payload), received likewise.
void Communicator::all_reduce_sum(float* data, int64_t n, CommKind kind) {
  if (size() == 1 || n == 0) return;
  const auto t0 = Clock::now();
  do_all_reduce_sum(data, n);
  count(kind, n * 4, n * 4, since(t0));
}

void Communicator::all_reduce_max(int64_t* data, int64_t n, CommKind kind) {
  if (size() == 1 || n == 0) return;
  const auto t0 = Clock::now();
  do_all_reduce_max(data, n);
  count(kind, n * 8, n * 8, since(t0));
}

void Communicator::all_gather(const void* send, int64_t bytes, void* recv, CommKind kind) {
  std::vector<int64_t> sizes(static_cast<size_t>(size()), bytes);
  all_gather_v(send, bytes, recv, sizes, kind);
}

void Communicator::all_gather_v(const void* send, int64_t bytes, void* recv, std::span<const int64_t> recv_bytes,
                                CommKind kind) {
  if (static_cast<int>(recv_bytes.size()) != size() || recv_bytes[static_cast<size_t>(rank())] != bytes)
    throw Error("all_gather_v: the receive sizes do not match the group");
  const auto t0 = Clock::now();
  do_all_gather_v(send, bytes, recv, recv_bytes);
  if (size() > 1) count(kind, bytes * (size() - 1), sum(recv_bytes) - bytes, since(t0));
}

void Communicator::all_to_all_v(const void* send, std::span<const int64_t> send_bytes, void* recv,
                                std::span<const int64_t> recv_bytes, CommKind kind) {
  if (static_cast<int>(send_bytes.size()) != size() || static_cast<int>(recv_bytes.size()) != size())
    throw Error("all_to_all_v: one size per rank of the group needed");
  const auto t0 = Clock::now();
  do_all_to_all_v(send, send_bytes, recv, recv_bytes);
  const auto self = static_cast<size_t>(rank());
  if (size() > 1) count(kind, sum(send_bytes) - send_bytes[self], sum(recv_bytes) - recv_bytes[self], since(t0));
}

void Communicator::broadcast(void* data, int64_t bytes, int root, CommKind kind) {
  if (size() == 1 || bytes == 0) return;
  const auto t0 = Clock::now();
  do_broadcast(data, bytes, root);
  count(kind, rank() == root ? bytes * (size() - 1) : 0, rank() == root ? 0 : bytes, since(t0));
}

void Communicator::barrier() {
  if (size() > 1) do_barrier();
}

std::unique_ptr<Communicator> SelfCommunicator::split(int, int) { return std::make_unique<SelfCommunicator>(); }

void SelfCommunicator::do_all_gather_v(const void* send, int64_t bytes, void* recv, std::span<const int64_t>) {
  if (bytes > 0 && send != recv) std::memmove(recv, send, static_cast<size_t>(bytes));
}

void SelfCommunicator::do_all_to_all_v(const void* send, std::span<const int64_t> send_bytes, void* recv,
                                       std::span<const int64_t> recv_bytes) {
  if (send_bytes[0] != recv_bytes[0]) throw Error("all_to_all_v: a rank sends itself a different size");
  if (send_bytes[0] > 0 && send != recv) std::memmove(recv, send, static_cast<size_t>(send_bytes[0]));
}

}  // namespace dsinfer
