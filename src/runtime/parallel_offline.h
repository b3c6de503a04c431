#pragma once
// The offline job across the ranks of a parallel job: each attention-DP
// group runs its contiguous share of the global batch (the recipe's split),
// and the results and per-rank statistics are collected for rank 0's report.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "backend/weight_slice.h"
#include "dist/node_ranks.h"  // ranks_on_this_node, for this header's users
#include "dist/parallel_plan.h"
#include "model/deepseek_model.h"
#include "runtime/offline_runner.h"

namespace dsinfer {

// The sequences [begin, end) of a global batch this rank's DP group runs.
SliceRange data_parallel_share(int64_t batch, const ParallelContext& p);

// Every group's sequences in global order (from each group's first rank),
// step times of rank 0, summed MTP counts.
OfflineRunResult gather_offline_results(ParallelContext& p, const OfflineRunResult& mine);

// What each rank measured.
struct RankStats {
  CommCounters comm;
  double step_seconds = 0;      // wall time of the measured run's steps
  uint64_t peak_rss_bytes = 0;
  uint64_t weight_bytes = 0;    // this rank's mapped weights (its shard)
  DeepseekModel::ExpertFootprint experts;  // routed experts: this rank's and the whole checkpoint's
};
std::vector<RankStats> gather_rank_stats(ParallelContext& p, const RankStats& mine);

// The report lines and the results JSON's "parallel" object.
std::vector<std::string> describe_rank_stats(const std::vector<RankStats>& ranks);
nlohmann::json rank_stats_json(const ParallelSizes& sizes, const std::vector<RankStats>& ranks,
                               const std::vector<int64_t>& step_bytes);


}  // namespace dsinfer
