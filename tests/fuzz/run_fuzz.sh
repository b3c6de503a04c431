#!/usr/bin/env bash
# Builds every parser fuzzer with clang (libFuzzer + ASan + UBSan) and runs
# each for SECONDS (default 60, split between them) from its seed corpus in
# tests/fuzz/corpus/<name>; a crash, leak or sanitizer report fails.
#   tests/fuzz/run_fuzz.sh [SECONDS] [WORK_DIR] [TARGET]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-60}
WORK=${2:-build/fuzz}
FLAGS=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc)
declare -A SOURCES=(
  [openai_request]="src/server/openai_request.cpp src/runtime/sampling_params.cpp src/io/strict_json.cpp"
  [model_config]="src/io/model_config.cpp src/io/strict_json.cpp src/io/text_file.cpp"
  [run_config]="src/io/run_config.cpp src/io/text_file.cpp src/io/utf8.cpp"
  [safetensors]="src/io/safetensors.cpp src/io/mapped_file.cpp src/io/dtype.cpp src/io/strict_json.cpp src/io/text_file.cpp"
  [tokenizer]="$(ls src/tokenizer/*.cpp | tr '\n' ' ') src/io/utf8.cpp src/io/strict_json.cpp src/io/text_file.cpp"
  [jsonl_dataset]="src/runtime/prompt_dataset.cpp src/io/strict_json.cpp src/io/text_file.cpp"
  [calibration_jsonl]="src/convert/calibration_set.cpp $(ls src/tokenizer/*.cpp | tr '\n' ' ') src/io/utf8.cpp src/io/strict_json.cpp src/io/text_file.cpp"
)
declare -A LIBS=([run_config]="-lyaml-cpp" [tokenizer]="-lpcre2-8" [calibration_jsonl]="-lpcre2-8")
# The tokenizer target loads the real tokenizer files once.
export DSINFER_FUZZ_R1_TOKENIZER="$PWD/assets/deepseek-r1" DSINFER_FUZZ_K2_TOKENIZER="$PWD/tests/data/tokenizers/kimi-k2"
ALL=(openai_request model_config run_config safetensors tokenizer jsonl_dataset calibration_jsonl)
# Optional third argument: one target (scripts/fuzz.sh runs one for long).
if [ -n "${3:-}" ]; then names=("$3"); else names=("${ALL[@]}"); fi
each=$(( SECONDS_TO_RUN / ${#names[@]} ))
[ "$each" -ge 5 ] || each=5
# Build every target first, two at a time (the builds cost more than the runs on 2 cores).
build() {
  local name=$1
  mkdir -p "$WORK/$name/corpus"
  cp -n tests/fuzz/corpus/"$name"/* "$WORK/$name/corpus/" 2>/dev/null || true
  # shellcheck disable=SC2086
  clang++ "${FLAGS[@]}" tests/fuzz/${name}_fuzzer.cpp ${SOURCES[$name]} ${LIBS[$name]:-} -o "$WORK/$name/fuzzer"
}
pids=()
for name in "${names[@]}"; do
  build "$name" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done
status=0
for name in "${names[@]}"; do
  echo "fuzz $name: ${each}s"
  dir="$WORK/$name"
  rm -f "$dir"/timeout-* "$dir"/crash-* "$dir"/leak-* "$dir"/oom-* "$dir"/slow-unit-*
  # A fixed seed: CI replays the same mutation sequence (a slower machine runs a prefix of it).
  if "$dir/fuzzer" -seed=1 -max_total_time="$each" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$dir/" "$dir/corpus" > "$dir/log" 2>&1; then
    tail -2 "$dir/log"
  else
    # A unit over the 10 s watchdog is a bug only if it is slow again on its
    # own: CI runs this beside the sanitizer stage, and a stalled machine
    # (swap, a neighbour) trips the watchdog on inputs that take milliseconds.
    stalled=
    for t in "$dir"/timeout-*; do
      [ -e "$t" ] || continue
      if "$dir/fuzzer" -timeout=10 -runs=3 "$t" > "$dir/rerun.log" 2>&1; then
        echo "fuzz $name: the watchdog fired on $t ($(wc -c < "$t") bytes) but 3 reruns took:" \
          "$(grep -o 'in [0-9]* ms' "$dir/rerun.log" | tr '\n' ' ')- a machine stall, not a slow input"
        stalled=yes
      fi
    done
    if [ -z "$stalled" ]; then
      echo "fuzz $name: FAILED; the end of its log ($dir/log):"
      tail -60 "$dir/log"
      ls "$dir" | grep -E '^(timeout|crash|leak|oom|slow-unit)-' | sed "s|^|  artifact: $dir/|" || true
      status=1
    fi
  fi
  echo "fuzz $name: corpus $(ls "$dir/corpus" | wc -l) inputs"
done
exit $status
