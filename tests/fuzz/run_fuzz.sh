#!/usr/bin/env bash
# Builds the request-parser fuzzer with clang (libFuzzer + ASan + UBSan) and
# runs it for SECONDS (default 60) from the seed corpus; a crash fails.
#   tests/fuzz/run_fuzz.sh [SECONDS] [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-60}
WORK=${2:-build/fuzz}
mkdir -p "$WORK/corpus"
cp -n tests/fuzz/corpus/* "$WORK/corpus/" 2>/dev/null || true
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc \
  tests/fuzz/openai_request_fuzzer.cpp src/server/openai_request.cpp src/runtime/sampling_params.cpp \
  -o "$WORK/openai_request_fuzzer"
"$WORK/openai_request_fuzzer" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -timeout=10 \
  -rss_limit_mb=2048 "$WORK/corpus" 2>&1 | tail -5
echo "fuzz: corpus $(ls "$WORK/corpus" | wc -l) inputs"
