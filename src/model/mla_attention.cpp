#include "model/mla_attention.h"

#include <algorithm>

namespace dsinfer {

MlaAttention::MlaAttention(const ModelConfig& c, const YarnRope& rope, ComputePrecision precision, Ops& ops,
                           int64_t heads)
    : c_(c), rope_(rope), ops_(ops) {
  shape_.heads = heads;
  shape_.qk_nope = c.qk_nope_head_dim;
  shape_.qk_rope = c.qk_rope_head_dim;
  shape_.v_head = c.v_head_dim;
  shape_.rank = c.kv_lora_rank;
  shape_.softmax_scale = rope.softmax_scale();
  shape_.bf16 = precision == ComputePrecision::BF16;
}

void MlaAttention::forward(const AttentionWeights& w, int64_t layer, const float* x, std::span<const BatchEntry> batch,
                           const BatchLayout& layout, PagedLatentCache& cache, float* out, MlaWorkspace& ws,
                           ForwardObserver* observer) const {
  const int64_t T = layout.total_tokens, heads = shape_.heads, qk = shape_.qk();
  const int64_t rank = shape_.rank, kv_width = rank + shape_.qk_rope;
  const RopeTable rope = rope_.table();
  const double eps = c_.rms_norm_eps;

  // q = q_b(norm(q_a(x))) (q_proj(x) without q_lora), q_pe rotated.
  ws.q.resize(static_cast<size_t>(T * heads * qk));
  ws.kv.resize(static_cast<size_t>(T * kv_width));
  if (w.q_a_proj) {
    const int64_t qr = w.q_a_proj->rows;
    ws.qa.resize(static_cast<size_t>(T * qr));
    // q_a and kv_a read the same x: one job for the backend.
    const LinearWeight* both[] = {&*w.q_a_proj, &w.kv_a_proj_with_mqa};
    float* outs[] = {ws.qa.data(), ws.kv.data()};
    ops_.linears_of_one_input(both, x, T, outs);
    ops_.rms_norm(ws.qa.data(), T, qr, qr, w.q_a_layernorm.data(), eps, ws.qa.data());
    ops_.linear(w.q_b_proj, ws.qa.data(), T, ws.q.data());
  } else {
    ops_.linear(w.q_b_proj, x, T, ws.q.data());
  }
  ops_.rope(rope, ws.q.data() + shape_.qk_nope, T, heads * qk, heads, qk, layout.positions.data());

  // kv = [norm(c_kv) | rope(k_pe)] of the new tokens, into the cache.
  if (!w.q_a_proj) ops_.linear(w.kv_a_proj_with_mqa, x, T, ws.kv.data());
  ops_.rms_norm(ws.kv.data(), T, rank, kv_width, w.kv_a_layernorm.data(), eps, ws.kv.data());
  ops_.rope(rope, ws.kv.data() + rank, T, kv_width, 1, 0, layout.positions.data());
  std::vector<AttentionSeq> all, absorbed, expanded;
  int64_t absorbed_rows = 0;
  for (size_t b = 0; b < batch.size(); ++b) {
    const AttentionSeq s{cache.page_table(batch[b].seq, layer), layout.row_begin[b], layout.n_tokens[b],
                         layout.start_pos[b]};
    all.push_back(s);
    if (layout.path[b] == AttentionPath::Absorbed) {
      absorbed.push_back(s);
      absorbed_rows += s.n_tokens;
    } else {
      expanded.push_back(s);
    }
    if (observer) observer->attention_path(layer, b, layout.path[b]);
  }
  ops_.mla_write_cache(all, ws.kv.data(), kv_width);
  if (observer) observer->phase_done(StepPhase::Attention, layer);

  // o = softmax(q K^T) V per head, each entry on its own path.
  ws.o.resize(static_cast<size_t>(T * heads * shape_.v_head));
  if (!expanded.empty()) {
    ops_.mla_prefill_attention(shape_, w.kv_b_proj, expanded, ws.q.data(), ws.o.data());
    if (observer) observer->phase_done(StepPhase::AttentionCore, layer);
  }
  if (absorbed_rows == T) {
    attend_absorbed(w, absorbed, ws.q.data(), T, ws.o.data(), ws, layer, observer);
  } else if (absorbed_rows > 0) {
    // Mixed batch: the decode entries' rows gathered, attended, scattered back.
    const int64_t qw = heads * qk, ow = heads * shape_.v_head;
    ws.q_rows.resize(static_cast<size_t>(absorbed_rows * qw));
    ws.o_rows.resize(static_cast<size_t>(absorbed_rows * ow));
    std::vector<AttentionSeq> packed = absorbed;
    int64_t r = 0;
    for (AttentionSeq& s : packed) {
      std::copy(ws.q.data() + s.row_begin * qw, ws.q.data() + (s.row_begin + s.n_tokens) * qw, ws.q_rows.data() + r * qw);
      s.row_begin = r;
      r += s.n_tokens;
    }
    attend_absorbed(w, packed, ws.q_rows.data(), absorbed_rows, ws.o_rows.data(), ws, layer, observer);
    for (size_t i = 0; i < packed.size(); ++i)
      std::copy(ws.o_rows.data() + packed[i].row_begin * ow,
                ws.o_rows.data() + (packed[i].row_begin + packed[i].n_tokens) * ow, ws.o.data() + absorbed[i].row_begin * ow);
  }
  ops_.linear(w.o_proj, ws.o.data(), T, out);
}

// Latent-space attention: score_t = (W_UK^T q_nope) . c_t + q_pe . k_pe_t,
// the value is sum_t p_t c_t, and W_UV maps it to the head output. The
// cache is read in place and never expanded.
void MlaAttention::attend_absorbed(const AttentionWeights& w, std::span<const AttentionSeq> seqs, const float* q,
                                   int64_t T, float* o, MlaWorkspace& ws, int64_t layer,
                                   ForwardObserver* observer) const {
  ws.q_lat.resize(static_cast<size_t>(shape_.heads * T * shape_.rank));
  ws.lat_out.resize(ws.q_lat.size());
  ops_.mla_absorb_query(shape_, w.kv_b_proj, q, T, ws.q_lat.data());
  if (observer) observer->phase_done(StepPhase::Attention, layer);
  ops_.mla_decode_attention(shape_, seqs, ws.q_lat.data(), q, T, ws.lat_out.data());
  if (observer) observer->phase_done(StepPhase::AttentionCore, layer);
  ops_.mla_value_projection(shape_, w.kv_b_proj, ws.lat_out.data(), T, o);
}

}  // namespace dsinfer
