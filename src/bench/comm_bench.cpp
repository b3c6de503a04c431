#include "bench/comm_bench.h"

#include <algorithm>
#include <chrono>

namespace dsinfer::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The slowest rank's time of one call of fn, median over the iterations.
template <class F>
double median_us(Communicator& world, const CommBenchOptions& o, F&& fn) {
  for (int i = 0; i < o.warmup; ++i) fn();
  std::vector<double> times;
  for (int i = 0; i < o.iterations; ++i) {
    world.barrier();
    const auto t0 = Clock::now();
    fn();
    auto ns = static_cast<int64_t>(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
    world.all_reduce_max(&ns, 1);
    times.push_back(static_cast<double>(ns) / 1e3);
  }
  std::nth_element(times.begin(), times.begin() + static_cast<int64_t>(times.size() / 2), times.end());
  return times[times.size() / 2];
}

}  // namespace

std::vector<CommBenchRow> run_comm_bench(Communicator& world, const CommBenchOptions& o) {
  const int P = world.size();
  std::vector<CommBenchRow> rows;
  for (int64_t b : o.batches) {
    CommBenchRow row;
    row.batch = b;
    const int64_t row_bytes = o.hidden * o.row_bytes_per_value;
    // b x top_k rows, spread evenly (balanced experts): block r goes to rank r.
    std::vector<int64_t> sizes(static_cast<size_t>(P));
    int64_t total = 0;
    for (int r = 0; r < P; ++r) {
      const int64_t rows_to_r = (b * o.top_k) / P + (r < (b * o.top_k) % P ? 1 : 0);
      sizes[static_cast<size_t>(r)] = rows_to_r * row_bytes;
      total += sizes[static_cast<size_t>(r)];
    }
    std::vector<uint8_t> send(static_cast<size_t>(total), 1), recv(static_cast<size_t>(total));
    row.dispatch_bytes = total - sizes[static_cast<size_t>(world.rank())];
    row.dispatch_combine_us = median_us(world, o, [&] {
      world.all_to_all_v(send.data(), sizes, recv.data(), sizes, CommKind::Dispatch);
      world.all_to_all_v(recv.data(), sizes, send.data(), sizes, CommKind::Combine);
    });
    row.dispatch_combine_gbps = row.dispatch_combine_us > 0 ? 4.0 * row.dispatch_bytes / (row.dispatch_combine_us * 1e3) : 0;
    std::vector<float> x(static_cast<size_t>(b * o.hidden), 1.f);
    row.all_reduce_bytes = static_cast<int64_t>(x.size() * sizeof(float));
    row.all_reduce_us = median_us(world, o, [&] { world.all_reduce_sum(x.data(), static_cast<int64_t>(x.size())); });
    row.all_reduce_gbps = row.all_reduce_us > 0 ? row.all_reduce_bytes / (row.all_reduce_us * 1e3) : 0;
    rows.push_back(row);
  }
  return rows;
}

nlohmann::json comm_bench_json(const std::vector<CommBenchRow>& rows, int ranks, const CommBenchOptions& o) {
  nlohmann::json out = {{"ranks", ranks}, {"hidden", o.hidden}, {"top_k", o.top_k}, {"dispatch_dtype", "bf16"},
                        {"all_reduce_dtype", "float32"}, {"iterations", o.iterations}};
  nlohmann::json rs = nlohmann::json::array();
  for (const CommBenchRow& r : rows)
    rs.push_back({{"batch_per_rank", r.batch},
                  {"dispatch_bytes_per_rank", r.dispatch_bytes},
                  {"dispatch_combine_us", r.dispatch_combine_us},
                  {"dispatch_combine_gb_per_s", r.dispatch_combine_gbps},
                  {"all_reduce_bytes", r.all_reduce_bytes},
                  {"all_reduce_us", r.all_reduce_us},
                  {"all_reduce_gb_per_s", r.all_reduce_gbps}});
  out["rows"] = rs;
  return out;
}

}  // namespace dsinfer::bench
