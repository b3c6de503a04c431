#!/usr/bin/env bash
# Crash safety of `dsinfer convert`: a conversion SIGKILLed at 20 random points
# of its run never leaves OUT and never changes the input; a rerun without
# --force then writes output bit-identical to an uninterrupted conversion and
# no OUT.tmp-* directory is left behind.
#   tests/convert/kill_convert.sh DSINFER WORK_DIR [KILLS]
set -euo pipefail
BIN=$1
WORK=$2
KILLS=${3:-20}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$WORK"
mkdir -p "$WORK"
export DSINFER_CACHE_DIR="$WORK/cache"
# A ~400 MB FP8 checkpoint: R1-tiny's config widened (64 experts of 1024 x 512, 4 layers).
jq '.hidden_size = 1024 | .moe_intermediate_size = 512 | .n_routed_experts = 64 | .n_group = 8 | .topk_group = 4 |
    .num_hidden_layers = 4 | .num_nextn_predict_layers = 0' "$SRC/tests/data/deepseek-r1-tiny/config.json" \
  > "$WORK/config.json"
mkdir -p "$WORK/spec" && cp "$WORK/config.json" "$WORK/spec/"
cat > "$WORK/gen.yaml" <<YAML
model_name: deepseek_r1
model_path: "$WORK/spec"
world_size: 1
model_config:
  with_ckpt: False
data_config:
  input_max_len: 4
  max_new_tokens: 1
  batch_size: 1
YAML
"$BIN" run --quiet --no-warmup --no-pin --show-outputs 0 --config "$WORK/gen.yaml" > /dev/null
IN=$(ls -d "$WORK"/cache/random-* | head -1)
echo "input: $IN ($(du -sh "$IN" | cut -f1))"
hash_dir() { (cd "$1" && find . -type f ! -name '*.tmp-*' | sort | xargs sha256sum); }
IN_HASH=$(hash_dir "$IN")
start=$(date +%s.%N)
"$BIN" convert --quiet --threads 2 --input_fp8_hf_path "$IN" --output_hf_path "$WORK/reference" --quant_mode w8a8c8
took=$(echo "$(date +%s.%N) - $start" | bc)
echo "uninterrupted conversion: ${took}s"
REF_HASH=$(hash_dir "$WORK/reference")
OUT="$WORK/out"
landed=0
for i in $(seq 1 "$KILLS"); do
  delay=$(echo "scale=3; $took * $RANDOM / 32768" | bc)
  "$BIN" convert --quiet --threads 2 --input_fp8_hf_path "$IN" --output_hf_path "$OUT" --quant_mode w8a8c8 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  if [ -e "$OUT" ]; then
    # The kill came after the final rename: a complete output is fine, and must be the reference.
    [ "$(hash_dir "$OUT")" = "$REF_HASH" ] || { echo "kill $i at ${delay}s: $OUT exists and differs"; exit 1; }
    rm -rf "$OUT"
  else
    landed=$((landed + 1))
  fi
done
# Once, at the end: a change by any kill would still be there.
[ "$(hash_dir "$IN")" = "$IN_HASH" ] || { echo "the input changed"; exit 1; }
"$BIN" convert --quiet --threads 2 --input_fp8_hf_path "$IN" --output_hf_path "$OUT" --quant_mode w8a8c8
[ "$(hash_dir "$OUT")" = "$REF_HASH" ] || { echo "the rerun differs from the uninterrupted conversion"; exit 1; }
left=$(find "$WORK" -maxdepth 1 -name 'out.tmp-*' | wc -l)
[ "$left" = 0 ] || { echo "$left staging directories left"; exit 1; }
echo "kill_convert: $KILLS kills ($landed mid-run), input unchanged, rerun bit-identical, no staging left"
[ "$landed" -gt 0 ] || { echo "no kill landed mid-run"; exit 1; }
rm -rf "$WORK"
