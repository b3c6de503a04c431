#!/usr/bin/env bash
# A long run of one parser fuzzer (libFuzzer + ASan + UBSan, clang):
#   scripts/fuzz.sh TARGET SECONDS
# TARGET: openai_request | model_config | run_config | safetensors | tokenizer | jsonl_dataset.
# Its corpus grows in build/fuzz-long/TARGET/corpus; a crash input is written
# to the working directory (add it to tests/fuzz/corpus/TARGET as a regression).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { sed -n 2,6p "$0"; exit 2; }
exec bash tests/fuzz/run_fuzz.sh "$2" build/fuzz-long "$1"
