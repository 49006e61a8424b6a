#!/usr/bin/env bash
# bench/framing-speed.sh OLD NEW [ROUNDS]: batch throughput of two builds on
# UTKFace's validation split (2,759 crops), default flags, interleaved in one
# run so that both see the same machine. Prints images/s per round.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
old=${1:?usage: bench/framing-speed.sh OLD_BIN NEW_BIN [ROUNDS]}
new=${2:?usage: bench/framing-speed.sh OLD_BIN NEW_BIN [ROUNDS]}
rounds=${3:-3}
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
  for bin in "$old" "$new"; do
    start=$(date +%s.%N)
    "$bin" batch - --jsonl - --quiet < "$list" > /dev/null
    end=$(date +%s.%N)
    printf 'round %d  %-24s %5d images  %7.1f images/s\n' "$r" "$bin" "$n" "$(echo "$n / ($end - $start)" | bc -l)"
  done
done
