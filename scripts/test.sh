#!/usr/bin/env bash
# The project's test command (README and CI): Go tests against the real ONNX
# Runtime and model, then the training smoke test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -f .deps/lib/libonnxruntime.so.1 ] || [ ! -f .deps/models/blazeface_back_256.onnx ]; then
  echo "test: native dependencies missing; running scripts/setup.sh first" >&2
  scripts/setup.sh
fi
# Integration tests fail, rather than skip, when ONNX Runtime is missing.
AGEGENDER_REQUIRE_ORT=1 CGO_ENABLED=1 go test -count=1 ./...
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch, onnx' 2>/dev/null; then
  /usr/bin/python3 training/smoke_test.py
else
  echo "test: SKIP training smoke test: /usr/bin/python3 with torch and onnx not found (apt-get install python3-torch python3-onnx python3-pil python3-numpy)" >&2
fi
