#!/usr/bin/env bash
# bench/framing-speed.sh RUN RUN... [ROUNDS]: batch throughput of builds or
# models on UTKFace's validation split (2,759 crops), default flags,
# interleaved in one run so that all see the same machine. Each RUN is a
# binary, with batch flags after it in the same word when wanted:
#   bench/framing-speed.sh bin/old bin/agegender 3
#   bench/framing-speed.sh 'bin/agegender --model fast' 'bin/agegender --model v3.onnx' 3
# Prints images/s per round.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
usage="usage: bench/framing-speed.sh RUN RUN... [ROUNDS]"
(($# >= 2)) || { echo "$usage" >&2; exit 1; }
runs=("$@")
rounds=3
if [[ ${runs[-1]} =~ ^[0-9]+$ ]]; then
  rounds=${runs[-1]}
  unset 'runs[-1]'
fi
list=$(mktemp)
trap 'rm -f "$list"' EXIT
for d in ../shared/data/utkface ../shared/data/utkface-more; do
  [ -d "$d" ] || { echo "framing-speed: $d is absent; needs ../shared/data" >&2; exit 1; }
done
# The validation split: sha1(base name)[:8] mod 100 < 15, as eval --split val.
python3 - ../shared/data/utkface ../shared/data/utkface-more > "$list" <<'PY'
import hashlib, os, sys
for d in sys.argv[1:]:
    for n in sorted(os.listdir(d)):
        if n.endswith(".jpg") and int(hashlib.sha1(n.encode()).hexdigest()[:8], 16) % 100 < 15:
            print(os.path.join(d, n))
PY
n=$(wc -l < "$list")
for ((r = 1; r <= rounds; r++)); do
  for run in "${runs[@]}"; do
    read -r -a words <<< "$run"
    start=$(date +%s.%N)
    "${words[0]}" batch - --jsonl - --quiet "${words[@]:1}" < "$list" > /dev/null
    end=$(date +%s.%N)
    printf 'round %d  %-40s %5d images  %7.1f images/s\n' "$r" "$run" "$n" "$(echo "$n / ($end - $start)" | bc -l)"
  done
done
