#!/usr/bin/env bash
# Interleaved A/B benchmark of two dsinfer binaries on the same machine:
#   scripts/ab_bench.sh A_BINARY B_BINARY [ROUNDS] [FORMATS]
# runs `bench --synthetic r1 --layers 1 --experts 16` (decode batch 1 at 1K
# context, prefill 2048) for each weight format as A B A B ... and prints,
# per case, each binary's best time, its fraction of the ceiling measured
# around it (read bandwidth for decode, the format's compute peak for
# prefill), and B/A ratios. Ratios, not absolute times: the machine is shared.
# BATCHES / CONTEXTS (comma lists, default 1 / 1024) widen the decode cases.
set -euo pipefail
A=${1:?A binary}; B=${2:?B binary}; ROUNDS=${3:-2}; FORMATS=${4:-"w8a8 bf16 fp8"}
PREFILL=${PREFILL:-2048}  # prompt length of the prefill case (0: none)
BATCHES=${BATCHES:-1} CONTEXTS=${CONTEXTS:-1024}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for fmt in $FORMATS; do
  for r in $(seq 1 "$ROUNDS"); do
    for side in A B; do
      bin=$A; [ "$side" = B ] && bin=$B
      "$bin" bench --synthetic r1 --layers 1 --experts 16 --weights "$fmt" --batches "$BATCHES" --contexts "$CONTEXTS" \
        --prefill "$PREFILL" --reps 2 --json "$OUT/$fmt-$side-$r.json" > /dev/null 2> "$OUT/$fmt-$side-$r.log"
      echo "ab_bench: $fmt round $r $side done" >&2
    done
  done
done
python3 - "$OUT" "$ROUNDS" "$PREFILL" $FORMATS <<'PY'
import json, sys
out, rounds, prefill, formats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
print(f"{'format':6} {'case':16} {'A ms':>9} {'B ms':>9} {'B/A time':>9} | {'A frac':>7} {'B frac':>7} {'B/A frac':>9}")
for fmt in formats:
    runs = {s: [json.load(open(f"{out}/{fmt}-{s}-{r}.json")) for r in range(1, rounds + 1)] for s in "AB"}
    keys = sorted({(c["phase"], c["batch"], c["context"]) for j in runs["A"] for c in j["cases"]})
    for key in keys:
        row = {}
        for s in "AB":
            cases = [c for j in runs[s] for c in j["cases"] if (c["phase"], c["batch"], c["context"]) == key]
            frac = "bw_fraction" if key[0] == "decode" else "compute_fraction"
            best = max(cases, key=lambda c: c[frac])  # best fraction of its own ceiling
            row[s] = (min(c["time_ms"] for c in cases), best[frac], [round(c["time_ms"], 1) for c in cases],
                      [round(c[frac], 3) for c in cases])
        name = f"{key[0]} b{key[1]} {key[2]}" if key[0] == "decode" else f"{key[0]} {key[2]}"
        print(f"{fmt:6} {name:16} {row['A'][0]:9.1f} {row['B'][0]:9.1f} {row['B'][0]/row['A'][0]:9.3f} | "
              f"{row['A'][1]:7.3f} {row['B'][1]:7.3f} {row['B'][1]/row['A'][1]:9.3f}")
        print(f"{'':6} {'  per round':16} A ms {row['A'][2]} frac {row['A'][3]} | B ms {row['B'][2]} frac {row['B'][3]}")
print("frac: decode = bw_fraction (read GB/s over the ceiling probed around the step), "
      "prefill = compute_fraction (FLOP/s over the format's peak); B/A frac > 1: B is faster")
PY
