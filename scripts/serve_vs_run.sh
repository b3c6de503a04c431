#!/usr/bin/env bash
# The serving numbers of README.md, measured back to back on one machine:
#  1. `dsinfer run` (static batch of 64 distinct prompts, PROMPT tokens each,
#     OUTPUT new tokens) -> its decode tokens/s;
#  2. `dsinfer serve` on the same model + `dsinfer bench-serve` at
#     concurrency 1, 4, 16, 64 with the same lengths -> the table, and the
#     ratio of output tokens/s at concurrency 64 to (1);
#  3. TTFT p99 at concurrency 16 with a shared 1024-token system prompt, with
#     prefix caching and with --no-prefix-caching -> their ratio.
#
#   scripts/serve_vs_run.sh demo [PROMPT] [OUTPUT]        built-in demo model
#   scripts/serve_vs_run.sh r1-dims [PROMPT] [OUTPUT]     random weights, R1's dimensions,
#                                                         2 layers (1 dense + 1 MoE, 16 experts)
#   scripts/serve_vs_run.sh DIR [PROMPT] [OUTPUT]         a model directory
# Env: BUILD (default build), WORK (default build/serve-vs-run), LEVEL_REQUESTS
# (requests at concurrency 1/4/16, default 8,16,32; 0,0,0 skips those levels), PREFIX_TEST (default 1; 0
# skips step 3, which prefills ~50K tokens without the cache).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-demo}
PROMPT=${2:-64}
OUTPUT=${3:-256}
BUILD=${BUILD:-build}
WORK=${WORK:-$BUILD/serve-vs-run}
IFS=, read -r REQ1 REQ4 REQ16 <<< "${LEVEL_REQUESTS:-8,16,32}"
DSINFER=$BUILD/dsinfer
mkdir -p "$WORK/dataset"
WORK=$(cd "$WORK" && pwd)

# 64 distinct prompts (random words), so the batch routes like real traffic:
# one prompt repeated 64 times would send every token to the same experts.
awk 'BEGIN { srand(7); for (r = 0; r < 64; r++) { s = "";
  for (w = 0; w < 2000; w++) { l = 3 + int(rand() * 6); x = "";
    for (c = 0; c < l; c++) x = x sprintf("%c", 97 + int(rand() * 26)); s = s x " " }
  printf("{\"context\": \"%s\"}\n", s) } }' > "$WORK/dataset/prompts.jsonl"

model_keys() {  # the YAML's model_path / with_ckpt for MODEL
  case "$MODEL" in
    demo)
      "$DSINFER" run --quiet --no-warmup > /dev/null 2>&1  # materializes the demo checkpoint
      local dir
      dir=$(ls -d "${DSINFER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dsinfer}"/demo-deepseek-r1-random-* | head -1)
      printf 'model_path: "%s"\nmodel_config:\n  with_ckpt: True\n' "$dir" ;;
    r1-dims)
      local cfg=$WORK/r1-dims
      mkdir -p "$cfg"
      jq '.num_hidden_layers = 2 | .first_k_dense_replace = 1 | .n_routed_experts = 16 |
          .num_nextn_predict_layers = 0' assets/deepseek-r1/config.json > "$cfg/config.json"
      cp assets/deepseek-r1/tokenizer.json assets/deepseek-r1/tokenizer_config.json "$cfg/"
      printf 'model_path: "%s"\nmodel_config:\n  with_ckpt: False\n' "$cfg" ;;
    *)
      printf 'model_path: "%s"\nmodel_config:\n  with_ckpt: True\n' "$(cd "$MODEL" && pwd)" ;;
  esac
}
KEYS=$(model_keys)
cat > "$WORK/run.yaml" <<EOF
model_name: deepseek_r1
exe_mode: eager
world_size: 1
${KEYS}
  enable_pa: True
  pa_block_size: 128
data_config:
  dataset: LongBench
  dataset_path: "$WORK/dataset"
  input_max_len: $PROMPT
  max_new_tokens: $OUTPUT
  batch_size: 64
  chat_template: False
EOF

echo "== static batch: dsinfer run (batch 64, prompt $PROMPT, output $OUTPUT)"
"$DSINFER" run --config "$WORK/run.yaml" --quiet --show-outputs 0 --output "$WORK/run.json" | grep -E "TPOT|throughput"
RUN_DECODE=$(jq .decode_tokens_per_s "$WORK/run.json")

PORT=$((20000 + RANDOM % 20000))
SERVER_PID=
start_server() {
  "$DSINFER" serve --config "$WORK/run.yaml" --port "$PORT" "$@" > "$WORK/serve.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2> /dev/null || { cat "$WORK/serve.log"; exit 1; }
    sleep 1
  done
  echo "server did not come up"; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" || true; }
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null || true' EXIT
BENCH=("$DSINFER" bench-serve --url "http://127.0.0.1:$PORT" --prompt-lens "$PROMPT" --output-lens "$OUTPUT")

echo "== dsinfer serve + bench-serve (prompt $PROMPT, output $OUTPUT)"
start_server
{
  if [ "$REQ1" != 0 ]; then
    "${BENCH[@]}" --concurrency 1 --requests "$REQ1" --json "$WORK/c1.json"
    "${BENCH[@]}" --concurrency 4 --requests "$REQ4" --json "$WORK/c4.json" | tail -1
    "${BENCH[@]}" --concurrency 16 --requests "$REQ16" --json "$WORK/c16.json" | tail -1
  fi
  "${BENCH[@]}" --concurrency 64 --requests 64 --json "$WORK/c64.json" | tail -1
} 2> /dev/null
SERVE64=$(jq '.levels[0].output_tokens_per_s' "$WORK/c64.json")
awk -v s="$SERVE64" -v r="$RUN_DECODE" 'BEGIN { printf("concurrency 64: %.1f output tok/s = %.1f%% of the static run'"'"'s %.1f decode tok/s\n", s, 100 * s / r, r) }'

if [ "${PREFIX_TEST:-1}" = 0 ]; then stop_server; exit 0; fi
echo "== prefix caching: concurrency 16, shared 1024-token system prompt, prompt +64, output 16"
PREFIX=("$DSINFER" bench-serve --url "http://127.0.0.1:$PORT" --concurrency 16 --requests 48 --shared-prefix 1024
        --prompt-lens 64 --output-lens 16)
"${PREFIX[@]}" --json "$WORK/prefix-on.json" 2> /dev/null | tail -1
stop_server
start_server --no-prefix-caching
"${PREFIX[@]}" --json "$WORK/prefix-off.json" 2> /dev/null | tail -1
stop_server
ON=$(jq '.levels[0].ttft_p99_ms' "$WORK/prefix-on.json")
OFF=$(jq '.levels[0].ttft_p99_ms' "$WORK/prefix-off.json")
awk -v on="$ON" -v off="$OFF" 'BEGIN { printf("TTFT p99: %.0f ms with prefix caching, %.0f ms without: %.1fx lower\n", on, off, off / on) }'
