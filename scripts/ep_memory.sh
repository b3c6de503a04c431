#!/usr/bin/env bash
# Per-rank resident memory of the routed experts under expert parallelism:
# a random-weight model with DeepSeek-R1's dimensions (hidden 7168, real
# vocabulary; 1 dense + 1 MoE layer of 32 experts, FP8) runs a short
# `dsinfer run` in one process, under EP2 and under EP4 (mpirun, TCP), and
# each rank reports how much of its own and of the other ranks' experts it
# has resident (its page table): ~1/EP of the experts each, none of the others'.
# Usage: scripts/ep_memory.sh   (env BUILD, default build; WORK, default build/ep-memory)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WORK=${WORK:-$BUILD/ep-memory}
mkdir -p "$WORK/r1-dims-32"
jq '.num_hidden_layers = 2 | .first_k_dense_replace = 1 | .n_routed_experts = 32 | .num_nextn_predict_layers = 0' \
  assets/deepseek-r1/config.json > "$WORK/r1-dims-32/config.json"
yaml() {  # world
  cat <<YAML
model_name: deepseek_r1
model_path: "$(cd "$WORK/r1-dims-32" && pwd)"
exe_mode: eager
world_size: $1
model_config:
  enable_pa: True
  pa_block_size: 16
  with_ckpt: False
  perfect_eplb: True
data_config:
  dataset: default
  input_max_len: 8
  max_new_tokens: 2
  batch_size: 4
parallel_config:
  attn_tp_size: 1
YAML
}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # containers run as root; this script only
for world in 1 2 4; do
  yaml "$world" > "$WORK/ep$world.yaml"
  if [ "$world" = 1 ]; then
    "$BUILD/dsinfer" run --quiet --no-warmup --no-pin --show-outputs 0 --config "$WORK/ep1.yaml" --output "$WORK/ep1.json" > "$WORK/ep1.txt"
    echo "EP1: $(grep 'peak RSS' "$WORK/ep1.txt")"
  else
    mpirun --oversubscribe --bind-to none --mca btl tcp,self -x OMP_NUM_THREADS=1 -np "$world" \
      "$BUILD/dsinfer" run --quiet --no-warmup --no-pin --show-outputs 0 --config "$WORK/ep$world.yaml" \
      --output "$WORK/ep$world.json" > "$WORK/ep$world.txt"
    echo "EP$world:"
    jq -r '.parallel.ranks[] | "  rank \(.rank): routed experts resident \(.routed_experts.own_resident_bytes / 1048576 | floor) MiB of its own \(.routed_experts.own_bytes / 1048576 | floor) MiB; of the others\u0027 \((.routed_experts.all_resident_bytes - .routed_experts.own_resident_bytes) / 1048576 | floor) MiB; \(100 * .routed_experts.all_resident_bytes / .routed_experts.all_bytes | floor)% of all \(.routed_experts.all_bytes / 1048576 | floor) MiB; peak RSS \(.peak_rss_bytes / 1048576 | floor) MiB"' "$WORK/ep$world.json"
  fi
done
