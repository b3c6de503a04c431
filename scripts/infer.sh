#!/usr/bin/env bash
# The seed's infer.sh: runs the offline job described by a YAML file.
# YAML_FILE_NAME is a path relative to configs/ (or absolute), as in the seed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
YAML_FILE_NAME="${YAML_FILE_NAME:-tiny/deepseek_r1_tiny.yaml}"  # modify to your yaml file name
case "$YAML_FILE_NAME" in
  /*) YAML="$YAML_FILE_NAME" ;;
  *) YAML="$ROOT/configs/$YAML_FILE_NAME" ;;
esac
DSINFER_BIN="${DSINFER_BIN:-$ROOT/build/dsinfer}"
if [ ! -x "$DSINFER_BIN" ]; then
  echo "infer.sh: $DSINFER_BIN not found; build first with: bash scripts/build.sh" >&2
  exit 2
fi
exec "$DSINFER_BIN" run --config "$YAML" "$@"
