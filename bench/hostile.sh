#!/usr/bin/env bash
# batch over 10,000 inputs of which 1% are hostile (go run ./bench/hostile:
# strips, header bombs, a 10000x10000 PNG, JPEG scan bombs, CMYK progressive
# JPEGs and 16-bit interlaced PNGs, FIFOs, sockets, devices, folders named
# y.jpg, a 1 MB path line, names that are not UTF-8 or start with =),
# under /usr/bin/time -v. Prints inputs, rows, duplicates, missing, the exit
# code, peak RSS and wall time. Good images link to UTKFace crops when
# ../shared is there, else they are generated.
#
#   bench/hostile.sh                 # 9,900 good + 132 hostile
#   GOOD=990 COPIES=1 bench/hostile.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
good=${GOOD:-9900}
copies=${COPIES:-4}
faces=${FACES:-../shared/data/utkface}
limit=${LIMIT_S:-1800}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

make build >/dev/null
go build -o "$work/hostile" ./bench/hostile
faces_args=()
if [ -d "$faces" ]; then
  faces_args=(-faces "$faces")
else
  echo "hostile: $faces is absent; good images are generated patterns" >&2
fi
"$work/hostile" -out "$work/corpus" -good "$good" -copies "$copies" "${faces_args[@]}"

set +e
timeout "$limit" /usr/bin/time -v -o "$work/time.txt" \
  bin/agegender batch - --jsonl "$work/out.jsonl" --quiet <"$work/corpus/list.txt" 2>"$work/stderr.txt"
code=$?
"$work/hostile" -check "$work/corpus" -rows "$work/out.jsonl" >"$work/check.txt"
check=$?
set -e

grep -E '^(missing:|duplicate \(|wrong row:)' "$work/check.txt" | head -20 || true
grep -E '^(inputs|rows|duplicates|missing|wrong) ' "$work/check.txt"
if [ "$code" -eq 124 ]; then
  echo "exit code 124 (hung: killed after ${limit} s)"
else
  echo "exit code $code"
fi
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
echo "peak RSS $((rss_kb / 1024)) MB"
awk -F': ' '/Elapsed \(wall clock\)/ {print "wall " $2}' "$work/time.txt"
[ "$check" -eq 0 ] && [ "$code" -eq 2 ]
