#!/usr/bin/env bash
# make bench: throughput of every case on the first 2,000 UTKFace files,
# then the detector's per-photo cost, then a bounded load test of serve.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
data=${DATA:-../shared/data/utkface}
if [ ! -d "$data" ]; then
  echo "bench: $data is absent; the benchmarks need ../shared/data beside the repository" >&2
  exit 1
fi
mkdir -p out/bench
seed_args=()
if /usr/bin/python3 -c 'import torch, onnx' 2>/dev/null; then
  if [ ! -f out/bench/agegender-seed.onnx ]; then
    /usr/bin/python3 training/main.py export --preset seed --untrained --out out/bench/agegender-seed.onnx >/dev/null
  fi
  seed_args=(-seed-model out/bench/agegender-seed.onnx)
else
  seed_args=(-python "")
  echo "bench: no /usr/bin/python3 with torch: skipping the seed-architecture cases" >&2
fi
go run ./bench/throughput -bin bin/agegender -data "$data" -n 2000 "${seed_args[@]}"
echo
go test -run '^$' -bench 'Detect1280x960' -benchtime 50x ./internal/predict/detect/ | grep -E '^Benchmark'
echo
go run ./bench/loadtest -bin bin/agegender
