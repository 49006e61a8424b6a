#!/usr/bin/env bash
# bench/sources.sh [BIN] [extra eval flags...]: a model judged across sources,
# never on one alone, through the CLI with its default flags:
#   UTKFace val (both folders), AAF val (the same sha1-of-name split), each per
#   age bucket, and WIDER FACE (500 photos, never trained on): gender and
#   perceived-age-group agreement.
# BIN defaults to bin/agegender; flags after it (e.g. --model M, --detect off)
# go to each eval. Summaries land in out/sources/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${1:-bin/agegender}
shift || true
data=../shared/data
for d in utkface utkface-more aaf widerface; do
  if [ ! -d "$data/$d" ]; then
    echo "sources: $data/$d is absent; this benchmark needs ../shared/data beside the repository" >&2
    exit 1
  fi
done
out=out/sources
mkdir -p "$out"

echo "== UTKFace val (utkface + utkface-more)"
"$bin" eval "$data/utkface" "$data/utkface-more" --split val -q "$@" | tee "$out/utkface.txt" | sed -n '1,9p'
echo
echo "== AAF val"
"$bin" eval "$data/aaf" --labels "$data/aaf/labels.csv" --split val -q "$@" | tee "$out/aaf.txt" | sed -n '1,9p'
echo
echo "== WIDER FACE (500 photos)"
model=()
for ((i = 1; i <= $#; i++)); do
  if [ "${!i}" = "--model" ]; then
    j=$((i + 1))
    model=(-model "${!j}")
  fi
done
go run ./bench/widerface "${model[@]}" | tee "$out/widerface.txt" | grep -E 'gender|age group|median'
