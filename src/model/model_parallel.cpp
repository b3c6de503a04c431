#include "model/model_parallel.h"

#include <algorithm>
#include <numeric>

#include "model/moe_layer.h"

namespace dsinfer {
namespace {

constexpr int64_t kF32 = sizeof(float);

std::vector<int64_t> gather_counts(Communicator& g, int64_t mine) {
  std::vector<int64_t> counts(static_cast<size_t>(g.size()));
  g.all_gather(&mine, sizeof mine, counts.data());
  return counts;
}

std::vector<int64_t> scaled(const std::vector<int64_t>& v, int64_t k) {
  std::vector<int64_t> out(v.size());
  std::transform(v.begin(), v.end(), out.begin(), [k](int64_t x) { return x * k; });
  return out;
}

int64_t offset_of(const std::vector<int64_t>& counts, int rank) {
  return std::accumulate(counts.begin(), counts.begin() + rank, int64_t{0});
}

}  // namespace

ModelParallel::ModelParallel(std::shared_ptr<ParallelContext> context, const RankShard& shard)
    : context_(std::move(context)), shard_(shard) {}

SliceRange ModelParallel::my_rows(int64_t T) const {
  Communicator& tp = context_->attn_tp();
  return even_part(T, tp.size(), tp.rank());
}

void ModelParallel::restore_rows(float* rows, int64_t T, int64_t width) const {
  Communicator& tp = context_->attn_tp();
  if (tp.size() == 1 || T == 0) return;
  std::vector<int64_t> bytes;
  for (int i = 0; i < tp.size(); ++i) bytes.push_back(even_part(T, tp.size(), i).size() * width * kF32);
  const SliceRange r = my_rows(T);
  std::vector<float> mine(rows + r.begin * width, rows + r.end * width);
  tp.all_gather_v(mine.data(), r.size() * width * kF32, rows, bytes, CommKind::AllGather);
}

template <class In, class Fn>
void ModelParallel::gather_and_sum(Communicator& g, const In* x, int64_t in_width, int64_t T, int64_t out_width,
                                   float* out, Fn&& fn) const {
  constexpr int64_t kIn = sizeof(In);
  if (g.size() == context_->attn_tp().size()) {
    // The same ranks as the attention TP group: the rows are already on all of them.
    fn(x, T, out);
    g.all_reduce_sum(out, T * out_width);
    return;
  }
  const SliceRange r = my_rows(T);
  const auto counts = gather_counts(g, r.size());
  const int64_t N = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  std::vector<In> all(static_cast<size_t>(N * in_width));
  std::vector<float> partial(static_cast<size_t>(N * out_width), 0.f);
  g.all_gather_v(x + r.begin * in_width, r.size() * in_width * kIn, all.data(), scaled(counts, in_width * kIn),
                 CommKind::AllGather);
  fn(all.data(), N, partial.data());
  g.all_reduce_sum(partial.data(), N * out_width);
  const int64_t at = offset_of(counts, g.rank());
  std::copy(partial.begin() + at * out_width, partial.begin() + (at + r.size()) * out_width, out + r.begin * out_width);
  restore_rows(out, T, out_width);
}

void ModelParallel::tensor_parallel(Communicator& g, const float* x, int64_t T, int64_t width, float* out,
                                    const RowsFn& fn) const {
  if (g.size() == 1) {
    if (T > 0) fn(x, T, out);
    return;
  }
  gather_and_sum(g, x, width, T, width, out, [&](const float* rows, int64_t n, float* y) {
    if (n > 0) fn(rows, n, y);
  });
}

void ModelParallel::embed(Ops& ops, const LinearWeight& table, std::span<const int32_t> ids, int64_t H,
                          float* out) const {
  const auto T = static_cast<int64_t>(ids.size());
  Communicator& g = context_->embed_tp();
  if (g.size() == 1) {
    if (T > 0) ops.embed(table, ids, out);
    return;
  }
  // Masked lookup of the ids in this rank's vocabulary rows; the others stay 0.
  auto lookup = [&](std::span<const int32_t> all, float* dst) {
    std::fill(dst, dst + static_cast<int64_t>(all.size()) * H, 0.f);
    std::vector<int32_t> local;
    std::vector<int64_t> where;
    for (size_t i = 0; i < all.size(); ++i)
      if (all[i] >= shard_.embed_vocab.begin && all[i] < shard_.embed_vocab.end) {
        local.push_back(static_cast<int32_t>(all[i] - shard_.embed_vocab.begin));
        where.push_back(static_cast<int64_t>(i));
      }
    if (local.empty()) return;
    std::vector<float> rows(local.size() * static_cast<size_t>(H));
    ops.embed(table, local, rows.data());
    for (size_t j = 0; j < where.size(); ++j)
      std::copy(rows.begin() + static_cast<int64_t>(j) * H, rows.begin() + static_cast<int64_t>(j + 1) * H,
                dst + where[j] * H);
  };
  gather_and_sum(g, ids.data(), 1, T, H, out, [&](const int32_t* all, int64_t n, float* dst) {
    lookup(std::span<const int32_t>(all, static_cast<size_t>(n)), dst);
  });
}

void ModelParallel::reduce_attention(float* out, int64_t n) const { context_->attn_tp().all_reduce_sum(out, n); }

void ModelParallel::dense_mlp(Ops& ops, const MlpWeights& w, const float* x, int64_t T, int64_t H, float* out) const {
  tensor_parallel(context_->dense_tp(), x, T, H, out,
                  [&](const float* rows, int64_t n, float* y) { ops.gated_mlp(w, rows, n, y); });
}

void ModelParallel::moe(Ops& ops, const ModelConfig& c, const MoeWeights& w, int64_t layer, const float* x, int64_t T,
                        float* out, const ForwardOptions& o) const {
  if (shard_.moe_ep > 1) {
    const SliceRange r = my_rows(T);
    expert_parallel(ops, c, w, layer, x + r.begin * c.hidden_size, r.size(), out + r.begin * c.hidden_size, o);
    restore_rows(out, T, c.hidden_size);
    return;
  }
  tensor_parallel(context_->moe_tp(), x, T, c.hidden_size, out,
                  [&](const float* rows, int64_t n, float* y) { moe_forward(ops, c, w, layer, rows, n, y, o); });
}

// Dispatch rows are [hidden state | local expert id | weight]; every
// (token, choice) pair travels on its own, so an expert's rows arrive
// grouped per source rank and are computed in one grouped call.
void ModelParallel::expert_parallel(Ops& ops, const ModelConfig& c, const MoeWeights& w, int64_t layer,
                                    const float* x, int64_t n, float* out, const ForwardOptions& o) const {
  Communicator& ep = context_->moe_ep();
  const int64_t H = c.hidden_size, W = H + 2, P = ep.size();
  const int64_t per_rank = c.n_routed_experts / P;
  RoutingResult route;
  if (n > 0) route = moe_route(ops, c, w, layer, x, n, o, context_->rank());
  const int64_t K = route.top_k, pairs = n * K;
  std::vector<int64_t> send_rows(static_cast<size_t>(P), 0);
  for (int64_t i = 0; i < pairs; ++i) ++send_rows[static_cast<size_t>(route.experts[i] / per_rank)];
  std::vector<int64_t> start(static_cast<size_t>(P), 0), order(static_cast<size_t>(pairs));
  for (int64_t p = 1; p < P; ++p) start[p] = start[p - 1] + send_rows[p - 1];
  std::vector<float> send(static_cast<size_t>(pairs * W));
  {
    std::vector<int64_t> fill = start;
    for (int64_t i = 0; i < pairs; ++i) {
      const int32_t e = route.experts[i];
      const int64_t j = fill[static_cast<size_t>(e / per_rank)]++;
      order[j] = i;
      float* row = send.data() + j * W;
      std::copy(x + (i / K) * H, x + (i / K + 1) * H, row);
      row[H] = static_cast<float>(e % per_rank);
      row[H + 1] = route.weights[i];
    }
  }
  std::vector<int64_t> recv_rows(static_cast<size_t>(P));
  const std::vector<int64_t> one(static_cast<size_t>(P), 8);
  ep.all_to_all_v(send_rows.data(), one, recv_rows.data(), one, CommKind::Dispatch);
  const int64_t R = std::accumulate(recv_rows.begin(), recv_rows.end(), int64_t{0});
  std::vector<float> recv(static_cast<size_t>(R * W));
  ep.all_to_all_v(send.data(), scaled(send_rows, W * kF32), recv.data(), scaled(recv_rows, W * kF32),
                  CommKind::Dispatch);
  std::vector<float> xr(static_cast<size_t>(R * H)), yr(xr.size());
  RoutingResult local;
  local.top_k = 1;
  for (int64_t j = 0; j < R; ++j) {
    const float* row = recv.data() + j * W;
    std::copy(row, row + H, xr.data() + j * H);
    local.experts.push_back(static_cast<int32_t>(row[H]));
    local.weights.push_back(row[H + 1]);
  }
  if (R > 0) ops.routed_experts(w.experts, local, xr.data(), R, H, o.moe_chunk_max_len, yr.data());
  std::vector<float> back(static_cast<size_t>(pairs * H));
  ep.all_to_all_v(yr.data(), scaled(recv_rows, H * kF32), back.data(), scaled(send_rows, H * kF32),
                  CommKind::Combine);
  std::fill(out, out + n * H, 0.f);
  for (int64_t j = 0; j < pairs; ++j) ops.add(out + (order[j] / K) * H, back.data() + j * H, H);
  if (o.observer) o.observer->phase_done(StepPhase::RoutedExperts, layer);
  if (w.shared && n > 0) {
    std::vector<float> shared(static_cast<size_t>(n * H));
    ops.gated_mlp(*w.shared, x, n, shared.data());
    ops.add(out, shared.data(), n * H);
  }
}

std::vector<float> ModelParallel::head(Ops& ops, const LinearWeight& head, const float* rows, int64_t R, int64_t H,
                                       int64_t V) const {
  std::vector<float> logits(static_cast<size_t>(R * V));
  Communicator& g = context_->lmhead_tp();
  if (g.size() == 1) {
    if (R > 0) ops.linear(head, rows, R, logits.data());
    return logits;
  }
  const SliceRange r = my_rows(R);
  const auto counts = gather_counts(g, r.size());
  const int64_t N = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  std::vector<float> all(static_cast<size_t>(N * H));
  g.all_gather_v(rows + r.begin * H, r.size() * H * kF32, all.data(), scaled(counts, H * kF32), CommKind::AllGather);
  const int64_t Vr = shard_.lmhead_vocab.size();
  std::vector<float> part(static_cast<size_t>(N * Vr));
  if (N > 0) ops.linear(head, all.data(), N, part.data());
  // Member j gets its rows' logits over this rank's vocabulary; this rank
  // gets its rows' logits over every member's vocabulary.
  std::vector<int64_t> send_bytes, recv_bytes;
  std::vector<SliceRange> vocab;
  for (int j = 0; j < g.size(); ++j) {
    vocab.push_back(even_part(V, g.size(), j));
    send_bytes.push_back(counts[static_cast<size_t>(j)] * Vr * kF32);
    recv_bytes.push_back(r.size() * vocab.back().size() * kF32);
  }
  std::vector<float> recv(static_cast<size_t>(r.size() * V));
  g.all_to_all_v(part.data(), send_bytes, recv.data(), recv_bytes, CommKind::AllGather);
  const float* block = recv.data();
  for (int j = 0; j < g.size(); ++j) {
    const SliceRange& v = vocab[static_cast<size_t>(j)];
    for (int64_t s = 0; s < r.size(); ++s)
      std::copy(block + s * v.size(), block + (s + 1) * v.size(), logits.data() + (r.begin + s) * V + v.begin);
    block += r.size() * v.size();
  }
  restore_rows(logits.data(), R, V);
  return logits;
}

}  // namespace dsinfer
