#!/usr/bin/env bash
# End-to-end MTP speed: `dsinfer run` with next_n 0 against next_n 1 at forced
# acceptance 0%, 70% and 100% (--mtp-forced-acceptance: drafts kept with that
# probability, so the work per step is that of a real acceptance rate), on a
# random-weight model with DeepSeek-R1's dimensions: 8 layers (1 dense + 7 MoE
# of 16 experts, top-8) + the MTP layer, real vocabulary, FP8. perfect_eplb
# gives a step's tokens disjoint experts, as R1's 256 experts almost always do.
# Batch 1, 16 prompt tokens, 32 new. Prints decode tokens/s and the ratios,
# all from this run.  Usage: scripts/mtp_e2e.sh   (env BUILD, WORK, NEW)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WORK=${WORK:-$BUILD/mtp-e2e}
NEW=${NEW:-32}
mkdir -p "$WORK/r1-dims-8l-mtp"
jq '.num_hidden_layers = 8 | .first_k_dense_replace = 1 | .n_routed_experts = 16 | .num_nextn_predict_layers = 1' \
  assets/deepseek-r1/config.json > "$WORK/r1-dims-8l-mtp/config.json"
yaml() {  # next_n
  cat <<YAML
model_name: deepseek_r1
model_path: "$(cd "$WORK/r1-dims-8l-mtp" && pwd)"
exe_mode: eager
world_size: 1
model_config:
  next_n: $1
  enable_pa: True
  pa_block_size: 128
  with_ckpt: False
  perfect_eplb: True
data_config:
  dataset: default
  input_max_len: 16
  max_new_tokens: $NEW
  batch_size: 1
YAML
}
yaml 0 > "$WORK/n0.yaml"
yaml 1 > "$WORK/n1.yaml"
run() {  # name yaml [flags]
  local name=$1 cfg=$2; shift 2
  "$BUILD/dsinfer" run --quiet --show-outputs 0 --config "$cfg" --output "$WORK/$name.json" "$@" > "$WORK/$name.txt"
  jq -r --arg n "$name" '"\($n): decode \(.decode_tokens_per_s * 100 | round / 100) tok/s, TPOT \(.tpot_ms * 10 | round / 10) ms, decode step \(.decode_step_avg_ms_filtered * 10 | round / 10) ms" + (if .mtp then ", acceptance \(.mtp.acceptance[0] * 1000 | round / 1000), tokens/step \(.mtp.tokens_per_step * 100 | round / 100)" else "" end)' "$WORK/$name.json"
}
run plain "$WORK/n0.yaml"
for a in 0 0.7 1; do run "mtp1-forced-$a" "$WORK/n1.yaml" --mtp-forced-acceptance "$a"; done
# A second plain run last, so drift between the first and last runs shows.
run plain-again "$WORK/n0.yaml"
base=$(jq -s '(.[0].decode_tokens_per_s + .[1].decode_tokens_per_s) / 2' "$WORK/plain.json" "$WORK/plain-again.json")
for a in 0 0.7 1; do
  jq -r --argjson b "$base" --arg a "$a" '"next_n 1 at forced acceptance \($a): \(.decode_tokens_per_s / $b * 1000 | round / 1000)x the decode tokens/s of next_n 0"' "$WORK/mtp1-forced-$a.json"
done
