#!/usr/bin/env bash
# The seed's conversion entry point, same flags:
#   weight_convert.sh --input_fp8_hf_path IN --output_hf_path OUT --quant_mode {bfloat16|w8a8c16|w8a8c8}
# Extra flags (--force, --threads N, --calib-data FILE, --calib-percentile P,
# --quant_param_path DIR) are passed through to `dsinfer convert`.
# The binary is $DSINFER_BIN, else build/dsinfer next to this script's repo, else dsinfer on PATH.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${DSINFER_BIN:-}"
if [ -z "$bin" ]; then
  if [ -x "$here/../build/dsinfer" ]; then bin="$here/../build/dsinfer"
  elif command -v dsinfer >/dev/null 2>&1; then bin="$(command -v dsinfer)"
  else echo "weight_convert.sh: dsinfer binary not found (set DSINFER_BIN or build into build/)" >&2; exit 2
  fi
fi
exec "$bin" convert "$@"
