#!/usr/bin/env bash
# Installs every build/test dependency of dsinfer from Debian packages.
# Idempotent: packages already present are skipped by apt-get.
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libyaml-cpp-dev libpcre2-dev libcli11-dev
  libssl-dev libcpp-httplib-dev
  clang libclang-rt-14-dev
  libopenmpi-dev openmpi-bin  # dist/: MPI communicator; mpirun for the multi-rank tests
  jq bc  # the shell tests and scripts
  time  # GNU time: peak RSS of a child measured from a small parent (tests)
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# Node.js (the OpenAI client tests): Debian's nodejs + npm unless a node with
# npm is already installed (e.g. from NodeSource, whose package conflicts
# with Debian's npm).
if ! command -v npm > /dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
