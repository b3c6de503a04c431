#!/usr/bin/env bash
# Builds the parser, tokenizer, kernel, model and server test suites with
# AddressSanitizer + UndefinedBehaviorSanitizer (a second build tree,
# DSINFER_SANITIZE=ON) and runs them: any report fails.
#   tests/sanitize/run_sanitized.sh [BUILD_DIR]   (default build/sanitize)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build/sanitize}
# -O1 without debug info: the sanitizers need no more. (-O0 builds 2.5 min faster but the kernels then run
# the model tests several times slower: -O1 is the shorter stage.)
cmake -S . -B "$B" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1" -DDSINFER_SANITIZE=ON \
  > "$B.configure.log" 2>&1 ||
  { cat "$B.configure.log"; exit 1; }
SUITES=(io_tests tokenizer_tests kernels_tests model_tests server_tests dist_tests)
ninja -C "$B" "${SUITES[@]}" dsinfer > "$B.build.log" 2>&1 || { tail -40 "$B.build.log"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMP_WAIT_POLICY=PASSIVE
for s in "${SUITES[@]}"; do
  # The multi-rank tests run mpirun; under the sanitizers only the in-process parts.
  filter='*'
  [ "$s" = dist_tests ] && filter='ParallelSizes.*:EvenPart.*:SelfCommunicator.*:AgreedErrors.*:WeightSlice.*'
  echo "sanitize: $s"
  "$B/tests/$s" --gtest_filter="$filter" --gtest_brief=1
done
echo "sanitize: all suites clean"
