#pragma once
// The collectives of expert-parallel decode at DeepSeek-R1's message sizes,
// measured on the communicator at hand (run under mpirun): per batch of b
// tokens per rank, dispatch = an all-to-all-v of b x top_k rows of
// `hidden` bf16 values spread evenly over the ranks, combine = the same
// rows back, and the attention-TP all-reduce of [b, hidden] float32.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "dist/communicator.h"

namespace dsinfer::bench {

struct CommBenchOptions {
  std::vector<int64_t> batches{1, 2, 4, 8, 16, 32, 64, 128, 256};
  int64_t hidden = 7168, top_k = 8, row_bytes_per_value = 2;  // bf16
  int iterations = 20, warmup = 3;
};

struct CommBenchRow {
  int64_t batch = 0;
  int64_t dispatch_bytes = 0;   // per rank, sent to other ranks, each direction
  double dispatch_combine_us = 0;  // median over iterations of the slowest rank
  double dispatch_combine_gbps = 0;  // (sent + received) bytes of both exchanges / time
  int64_t all_reduce_bytes = 0;
  double all_reduce_us = 0;
  double all_reduce_gbps = 0;   // algorithm bandwidth: bytes / time
};

std::vector<CommBenchRow> run_comm_bench(Communicator& world, const CommBenchOptions& options);
nlohmann::json comm_bench_json(const std::vector<CommBenchRow>& rows, int ranks, const CommBenchOptions& options);

}  // namespace dsinfer::bench
