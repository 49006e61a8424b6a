#!/usr/bin/env bash
# The project's test command (README and CI): Go tests against the real ONNX
# Runtime and model, then the training smoke test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -f .deps/lib/libonnxruntime.so.1 ]; then
  echo "test: native dependencies missing; running scripts/setup.sh first" >&2
  scripts/setup.sh
fi
# Integration tests fail, rather than skip, when ONNX Runtime is missing.
# The full -v log is kept in out/test.log; shown are package results,
# failures, skips and the figures some tests measure (synthetic wild photos).
mkdir -p out
status=0
AGEGENDER_REQUIRE_ORT=1 CGO_ENABLED=1 go test -count=1 -v ./... >out/test.log 2>&1 || status=$?
grep -E '^(ok|FAIL|panic)|^--- (FAIL|SKIP)|^\s+\S+_test\.go:[0-9]+: |figures:' out/test.log | grep -v 'no test files' || true
if [ "$status" -ne 0 ]; then
  echo "test: go test failed (exit $status); full log in out/test.log" >&2
  exit "$status"
fi
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch, onnx' 2>/dev/null; then
  /usr/bin/python3 training/smoke_test.py
else
  echo "test: SKIP training smoke test: /usr/bin/python3 with torch and onnx not found (apt-get install python3-torch python3-onnx python3-pil python3-numpy)" >&2
fi
