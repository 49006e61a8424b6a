#!/usr/bin/env bash
# test-times.sh OTHER [RUNS]: times `go test -count=1 ./...` per package in
# OTHER (another checkout, e.g. `git worktree add /tmp/base 2fe3a77` with
# its own .deps and ../shared) and in this one, one after the other, RUNS
# times (default 1), warm: each tree's test binaries are built once first.
# Prints one row per package that took a second or more: its time in each
# run of each tree, then both trees' wall totals.
set -euo pipefail
other=$(realpath "$1"); runs=${2:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
export AGEGENDER_REQUIRE_ORT=1 CGO_ENABLED=1
for tree in "$other" "$here"; do
  (cd "$tree" && go test -count=1 -run '^$' ./... >/dev/null)   # warm the build cache
done
for r in $(seq "$runs"); do
  for tree in "$other" "$here"; do
    name=$([ "$tree" = "$here" ] && echo this || echo other)
    start=$(date +%s.%N)
    (cd "$tree" && go test -count=1 ./... 2>&1 | grep -E '^(ok|FAIL|---)' >"$out/$name.$r" || true)
    echo "total $(echo "$(date +%s.%N) - $start" | bc)s" >>"$out/$name.$r"
  done
done
echo "package | $(for r in $(seq "$runs"); do printf 'other %s | this %s | ' "$r" "$r"; done)"
pkgs=$(cat "$out"/* | awk '$1=="ok"||$1=="FAIL"{sub(/.*agegender\/agegender\//,"",$2); print $2}' | sort -u)
for p in $pkgs total; do
  row="$p |"; big=0
  for r in $(seq "$runs"); do
    for name in other this; do
      if [ "$p" = total ]; then t=$(awk '$1=="total"{print $2}' "$out/$name.$r"); big=1
      else t=$(awk -v p="$p" '($1=="ok"||$1=="FAIL") && $2 ~ ("/" p "$") {print $3}' "$out/$name.$r"); fi
      t=${t:--}
      case "$t" in [1-9]*.*s) big=1 ;; esac
      row="$row $t |"
    done
  done
  [ "$big" = 1 ] && echo "$row"
done
grep -h '^FAIL\|^--- FAIL' "$out"/* || true
