#include "runtime/parallel_offline.h"

#include <cstdio>
#include <algorithm>
#include <cstdlib>

#include "dist/gather.h"

namespace dsinfer {

SliceRange data_parallel_share(int64_t batch, const ParallelContext& p) {
  return even_part(batch, p.sizes().attn_dp(), p.attn_dp_rank());
}

OfflineRunResult gather_offline_results(ParallelContext& p, const OfflineRunResult& mine) {
  Communicator& world = p.world();
  // Only each DP group's first rank speaks for the group (its TP peers hold the same).
  const bool speaks = p.attn_tp().rank() == 0;
  std::vector<int64_t> lengths;
  std::vector<int32_t> ids;
  std::vector<double> ttft;
  if (speaks) {
    for (const auto& g : mine.generated) {
      lengths.push_back(static_cast<int64_t>(g.size()));
      ids.insert(ids.end(), g.begin(), g.end());
    }
    ttft = mine.ttft_ms;
  }
  OfflineRunResult all = mine;
  const auto all_lengths = all_gather_values<int64_t>(world, lengths);
  const auto all_ids = all_gather_values<int32_t>(world, ids);
  all.ttft_ms = all_gather_values<double>(world, ttft);
  all.generated.clear();
  size_t at = 0;
  for (int64_t n : all_lengths) {
    all.generated.emplace_back(all_ids.begin() + static_cast<int64_t>(at), all_ids.begin() + static_cast<int64_t>(at) + n);
    at += static_cast<size_t>(n);
  }
  const int64_t tokens = speaks ? mine.prompt_tokens : 0, pages = speaks ? mine.cache_pages : 0;
  all.prompt_tokens = all.cache_pages = 0;
  for (int64_t t : all_gather_one(world, tokens)) all.prompt_tokens += t;
  for (int64_t t : all_gather_one(world, pages)) all.cache_pages += t;
  if (mine.mtp.next_n > 0) {
    std::vector<int64_t> counts{speaks ? mine.mtp.verify_steps : 0, speaks ? mine.mtp.emitted : 0};
    for (size_t j = 0; j < mine.mtp.drafted.size(); ++j) {
      counts.push_back(speaks ? mine.mtp.drafted[j] : 0);
      counts.push_back(speaks ? mine.mtp.accepted[j] : 0);
    }
    std::vector<int64_t> summed(counts.size(), 0);
    const auto every = all_gather_values<int64_t>(world, counts);
    for (size_t i = 0; i < every.size(); ++i) summed[i % counts.size()] += every[i];
    all.mtp.verify_steps = summed[0];
    all.mtp.emitted = summed[1];
    for (size_t j = 0; j < mine.mtp.drafted.size(); ++j) {
      all.mtp.drafted[j] = summed[2 + 2 * j];
      all.mtp.accepted[j] = summed[3 + 2 * j];
    }
  }
  return all;
}

std::vector<RankStats> gather_rank_stats(ParallelContext& p, const RankStats& mine) {
  return all_gather_one(p.world(), mine);
}

namespace {

std::string mib(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f MiB", bytes / (1 << 20));
  return b;
}

constexpr CommKind kReported[] = {CommKind::Dispatch, CommKind::Combine, CommKind::AllReduce, CommKind::AllGather,
                                  CommKind::Control};

}  // namespace

std::vector<std::string> describe_rank_stats(const std::vector<RankStats>& ranks) {
  std::vector<std::string> lines;
  for (size_t r = 0; r < ranks.size(); ++r) {
    const RankStats& s = ranks[r];
    std::string line = "rank " + std::to_string(r) + ": sent";
    for (CommKind k : kReported) {
      const auto i = static_cast<size_t>(k);
      if (s.comm.calls[i] == 0) continue;
      line += std::string(" ") + comm_kind_name(k) + " " + mib(static_cast<double>(s.comm.bytes_sent[i])) + " / recv " +
              mib(static_cast<double>(s.comm.bytes_received[i])) + ";";
    }
    const double comm = s.comm.total_seconds();
    char tail[400];
    const auto& x = s.experts;
    std::snprintf(tail, sizeof tail,
                  " communication %.1f ms of %.1f ms in steps (%.1f%%), compute %.1f ms; peak RSS %s; weights %s; "
                  "routed experts resident %s of its own %s, %s of the others' (%.1f%% of all %s)",
                  comm * 1e3, s.step_seconds * 1e3, s.step_seconds > 0 ? 100.0 * comm / s.step_seconds : 0.0,
                  (s.step_seconds - comm) * 1e3, mib(static_cast<double>(s.peak_rss_bytes)).c_str(),
                  mib(static_cast<double>(s.weight_bytes)).c_str(), mib(static_cast<double>(x.mine_resident)).c_str(),
                  mib(static_cast<double>(x.mine_bytes)).c_str(),
                  mib(static_cast<double>(x.all_resident - x.mine_resident)).c_str(),
                  x.all_bytes ? 100.0 * static_cast<double>(x.all_resident) / static_cast<double>(x.all_bytes) : 0.0,
                  mib(static_cast<double>(x.all_bytes)).c_str());
    lines.push_back(line + tail);
  }
  return lines;
}

nlohmann::json rank_stats_json(const ParallelSizes& sizes, const std::vector<RankStats>& ranks,
                               const std::vector<int64_t>& step_bytes) {
  nlohmann::json rs = nlohmann::json::array();
  for (size_t r = 0; r < ranks.size(); ++r) {
    const RankStats& s = ranks[r];
    nlohmann::json sent, recv, calls, seconds;
    for (CommKind k : kReported) {
      const auto i = static_cast<size_t>(k);
      sent[comm_kind_name(k)] = s.comm.bytes_sent[i];
      recv[comm_kind_name(k)] = s.comm.bytes_received[i];
      calls[comm_kind_name(k)] = s.comm.calls[i];
      seconds[comm_kind_name(k)] = s.comm.seconds[i];
    }
    rs.push_back({{"rank", r},
                  {"bytes_sent", sent},
                  {"bytes_received", recv},
                  {"calls", calls},
                  {"comm_seconds", seconds},
                  {"comm_seconds_total", s.comm.total_seconds()},
                  {"step_seconds", s.step_seconds},
                  {"compute_seconds", s.step_seconds - s.comm.total_seconds()},
                  {"peak_rss_bytes", s.peak_rss_bytes},
                  {"weight_bytes", s.weight_bytes},
                  {"routed_experts",
                   {{"own_bytes", s.experts.mine_bytes},
                    {"own_resident_bytes", s.experts.mine_resident},
                    {"all_bytes", s.experts.all_bytes},
                    {"all_resident_bytes", s.experts.all_resident}}}});
  }
  return {{"world_size", sizes.world},
          {"attn_tp_size", sizes.attn_tp},
          {"attn_dp_size", sizes.attn_dp()},
          {"moe_tp_size", sizes.moe_tp},
          {"moe_ep_size", sizes.expert_parallel()},
          {"dense_tp_size", sizes.dense_tp},
          {"embed_tp_size", sizes.embed_tp},
          {"lmhead_tp_size", sizes.lmhead_tp},
          {"rank0_bytes_sent_per_step", step_bytes},
          {"ranks", rs}};
}

}  // namespace dsinfer
