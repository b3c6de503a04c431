// dsinfer bench-comm: the expert-parallel collectives at R1 decode sizes
// (run it under mpirun; rank 0 prints the table and writes the JSON).
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "bench/comm_bench.h"
#include "cli/commands/command.h"
#include "cli/commands/parallel_setup.h"
#include "io/error.h"

namespace dsinfer::cli {

void register_bench_comm_command(CLI::App& app, Action& action) {
  struct Opts {
    bench::CommBenchOptions bench;
    std::string output;
  };
  auto opts = std::make_shared<Opts>();
  CLI::App* cmd = app.add_subcommand(
      "bench-comm", "Expert-parallel dispatch+combine (all-to-all-v of top-k bf16 rows) and all-reduce latency and "
                    "GB/s at DeepSeek-R1 decode sizes; run under mpirun -np N");
  cmd->add_option("--batches", opts->bench.batches, "Tokens per rank to measure, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--hidden", opts->bench.hidden, "Hidden size (R1/V3/K2: 7168)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--top-k", opts->bench.top_k, "Experts per token (R1/V3/K2: 8)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--iterations", opts->bench.iterations, "Timed calls per size (the median is reported)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--output", opts->output, "Write the rows as JSON here");
  cmd->callback([&action, opts] {
    action = [opts] {
      Communicator& world = process_world();
      agreed([&] {
        for (int64_t b : opts->bench.batches)
          if (b < 1 || b > 65536) throw Error("bench-comm --batches: " + std::to_string(b) + " is not in [1, 65536]");
      });
      const auto rows = bench::run_comm_bench(world, opts->bench);
      if (!is_root()) return 0;
      std::printf("bench-comm: %d ranks, hidden %lld, top-%lld, dispatch rows bf16, all-reduce float32\n",
                  world.size(), static_cast<long long>(opts->bench.hidden), static_cast<long long>(opts->bench.top_k));
      std::printf("%8s %14s %14s %10s %14s %12s %10s\n", "batch", "dispatch B", "disp+comb us", "GB/s", "allreduce B",
                  "allreduce us", "GB/s");
      for (const auto& r : rows)
        std::printf("%8lld %14lld %14.1f %10.2f %14lld %12.1f %10.2f\n", static_cast<long long>(r.batch),
                    static_cast<long long>(r.dispatch_bytes), r.dispatch_combine_us, r.dispatch_combine_gbps,
                    static_cast<long long>(r.all_reduce_bytes), r.all_reduce_us, r.all_reduce_gbps);
      if (!opts->output.empty()) {
        std::ofstream f(opts->output);
        f << bench::comm_bench_json(rows, world.size(), opts->bench).dump(2) << "\n";
        f.close();
        if (!f) throw Error(opts->output + ": write failed");
      }
      return 0;
    };
  });
}

}  // namespace dsinfer::cli
