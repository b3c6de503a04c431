#!/usr/bin/env bash
# Installs dependencies and builds dsinfer (Release) into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release ${DSINFER_CMAKE_ARGS:-}
ninja -C build
