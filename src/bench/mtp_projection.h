#pragma once
// What MTP speculative decoding buys on DeepSeek-R1's real proportions,
// from costs measured in the same run on synthetic R1-dims layers:
//   t_layer(n)  one decoder layer's time for n new tokens per sequence
//               ((case time - lm_head time) / layers of the case);
//   t_head(n)   the lm_head's time for n rows per sequence;
//   t_eh        eh_proj, a bf16 [H, 2H] GEMV: t_head(1) x 2H / vocab
//               (the same kernel over 2H/vocab of the bytes).
//   decode      = 61 t_layer(1) + t_head(1)
//   verify(k)   = 61 t_layer(1+k) + t_head(1+k)
//   drafts(k)   = k (t_layer(1) + t_head(1) + t_eh)   (the MTP block and its
//                 own shared_head, as large as lm_head, once per draft)
//   tokens/step = 1 + a + a^2 + ... + a^k   at acceptance a per draft
//   speedup     = tokens/step x decode / (verify(k) + drafts(k))
#include <string>
#include <vector>

#include "bench/layer_bench.h"

namespace dsinfer::bench {

struct MtpProjection {
  int64_t batch = 0, context = 0, drafts = 0;
  double decode_ms = 0, verify_ms = 0, drafts_ms = 0;  // projected to 61 layers
  double speedup_at_100 = 0, speedup_at_70 = 0, speedup_at_0 = 0;
};

// Pairs each verify case with the decode case of the same weights, batch and
// context (both must be in `cases`).
std::vector<MtpProjection> project_mtp(const std::vector<CaseResult>& cases, int64_t layers, int64_t hidden,
                                       int64_t vocab);
std::string mtp_projection_table(const std::vector<MtpProjection>& p);

}  // namespace dsinfer::bench
