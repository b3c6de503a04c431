#!/usr/bin/env bash
# Installs dependencies, builds everything and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# The conversion RSS benchmark (label bench: ~8 GB of temp disk) runs via bench/, not here.
ctest --test-dir build --output-on-failure -j2 -LE bench
