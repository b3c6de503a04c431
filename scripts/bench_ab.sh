#!/usr/bin/env bash
# New commit vs old commit, interleaved on one machine: runs `dsinfer bench`
# of OLD and NEW alternately ROUNDS times with the same arguments and prints,
# per case, the best step time of each, old/new (speed-up) and each one's
# fraction of the read ceiling it measured around itself.
#   scripts/bench_ab.sh OLD_BINARY NEW_BINARY ROUNDS -- BENCH_ARGS...
# e.g. scripts/bench_ab.sh /tmp/old/dsinfer build/dsinfer 2 -- --synthetic r1 --layers 1 --experts 16 \
#        --weights all --batches 1,8,32 --contexts 1024 --prefill 2048
set -euo pipefail
[ $# -ge 4 ] && [ "$4" = "--" ] || { echo "usage: $0 OLD NEW ROUNDS -- BENCH_ARGS..." >&2; exit 2; }
old=$1 new=$2 rounds=$3
shift 4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for ((i = 0; i < rounds; ++i)); do
  for side in old new; do
    bin=$old; [ "$side" = new ] && bin=$new
    "$bin" bench "$@" --json "$work/$side.$i.json" > /dev/null
  done
done
# Best (lowest) time per case over the rounds, with the ceiling fraction of that step.
best() {
  jq -s '[.[].cases[]] | group_by([.phase, .weights, .batch, .context, .new_tokens])
         | map(min_by(.time_ms) | {key: "\(.phase) \(.weights) b\(.batch) ctx\(.context) +\(.new_tokens - 1)",
                                   ms: .time_ms, bw: .bw_fraction, roof: .roofline_fraction})' "$work"/"$1".*.json
}
best old > "$work/old.best"
best new > "$work/new.best"
printf '%-34s %10s %10s %8s %8s %8s %8s %8s\n' case old_ms new_ms speedup old_bw% new_bw% old_roof% new_roof%
jq -r --slurpfile o "$work/old.best" --slurpfile n "$work/new.best" -n '
  ($o[0] | map({(.key): .}) | add) as $O | $n[0][] | select($O[.key]) |
  [.key, $O[.key].ms, .ms, ($O[.key].ms / .ms), 100 * $O[.key].bw, 100 * .bw, 100 * $O[.key].roof, 100 * .roof] | @tsv' |
  while IFS=$'\t' read -r key om nm sp ob nb orf nrf; do
    printf '%-34s %10.2f %10.2f %7.2fx %8.1f %8.1f %8.1f %8.1f\n' "$key" "$om" "$nm" "$sp" "$ob" "$nb" "$orf" "$nrf"
  done
