#include "dist/mpi_communicator.h"

#include <mpi.h>

#include <climits>
#include <string>
#include <vector>

#include "io/error.h"

namespace dsinfer {
namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string("MPI ") + what + " failed: " + std::string(text, static_cast<size_t>(len)));
}

// MPI counts are int: sizes past 2 GiB in one call are refused, not truncated.
int as_count(int64_t n, const char* what) {
  if (n < 0 || n > INT_MAX) throw Error(std::string("MPI ") + what + ": " + std::to_string(n) + " bytes in one call");
  return static_cast<int>(n);
}

std::vector<int> counts(std::span<const int64_t> bytes, const char* what) {
  std::vector<int> c;
  for (int64_t b : bytes) c.push_back(as_count(b, what));
  return c;
}

std::vector<int> displacements(std::span<const int64_t> bytes, const char* what) {
  std::vector<int> d;
  int64_t at = 0;
  for (int64_t b : bytes) {
    d.push_back(as_count(at, what));
    at += b;
  }
  return d;
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override {
    if (owned_) MPI_Comm_free(&comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::unique_ptr<Communicator> split(int color, int key) override {
    MPI_Comm sub;
    check(MPI_Comm_split(comm_, color, key, &sub), "Comm_split");
    return std::make_unique<MpiCommunicator>(sub, true);
  }

 protected:
  void do_all_reduce_sum(float* data, int64_t n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, data, as_count(n, "Allreduce"), MPI_FLOAT, MPI_SUM, comm_), "Allreduce");
  }
  void do_all_reduce_max(int64_t* data, int64_t n) override {
    check(MPI_Allreduce(MPI_IN_PLACE, data, as_count(n, "Allreduce"), MPI_INT64_T, MPI_MAX, comm_), "Allreduce");
  }
  void do_all_gather_v(const void* send, int64_t bytes, void* recv, std::span<const int64_t> recv_bytes) override {
    const auto c = counts(recv_bytes, "Allgatherv");
    const auto d = displacements(recv_bytes, "Allgatherv");
    check(MPI_Allgatherv(send, as_count(bytes, "Allgatherv"), MPI_BYTE, recv, c.data(), d.data(), MPI_BYTE, comm_),
          "Allgatherv");
  }
  void do_all_to_all_v(const void* send, std::span<const int64_t> send_bytes, void* recv,
                       std::span<const int64_t> recv_bytes) override {
    const auto sc = counts(send_bytes, "Alltoallv"), rc = counts(recv_bytes, "Alltoallv");
    const auto sd = displacements(send_bytes, "Alltoallv"), rd = displacements(recv_bytes, "Alltoallv");
    check(MPI_Alltoallv(send, sc.data(), sd.data(), MPI_BYTE, recv, rc.data(), rd.data(), MPI_BYTE, comm_),
          "Alltoallv");
  }
  void do_broadcast(void* data, int64_t bytes, int root) override {
    check(MPI_Bcast(data, as_count(bytes, "Bcast"), MPI_BYTE, root, comm_), "Bcast");
  }
  void do_barrier() override { check(MPI_Barrier(comm_), "Barrier"); }

 private:
  MPI_Comm comm_;
  bool owned_;
  int rank_ = 0, size_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_world_communicator() {
  return std::make_unique<MpiCommunicator>(MPI_COMM_WORLD, false);
}

}  // namespace dsinfer
