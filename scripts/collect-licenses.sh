#!/usr/bin/env bash
# Copies the licence files of the Go standard library and of every Go module
# compiled into agegender (for the release targets) into OUT/<module path>/, so
# release archives carry them (MIT/BSD/Apache terms ask for that in binary
# distributions). Usage: scripts/collect-licenses.sh OUT   (goreleaser before hook)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/collect-licenses.sh OUT}

cd "$root"
rm -rf "$out"
mkdir -p "$out/go"
cp "$(go env GOROOT)/LICENSE" "$out/go/LICENSE"
[ -f "$(go env GOROOT)/PATENTS" ] && cp "$(go env GOROOT)/PATENTS" "$out/go/PATENTS"

go mod download
modules=$(
  for goarch in amd64 arm64; do
    CGO_ENABLED=1 GOOS=linux GOARCH=$goarch go list -deps \
      -f '{{if not .Standard}}{{with .Module}}{{.Path}} {{.Dir}}{{end}}{{end}}' ./cmd/agegender
  done | sort -u
)
main=$(go list -m)
count=0
while read -r path dir; do
  [ "$path" = "$main" ] && continue
  dest="$out/$path"
  mkdir -p "$dest"
  found=0
  for f in "$dir"/*; do
    name=$(basename "$f")
    case "${name,,}" in
      licen[cs]e*|copying*|notice*|patents*|authors*|licenses)
        cp -R "$f" "$dest/"
        found=1 ;;
    esac
  done
  if [ "$found" = 0 ]; then
    echo "collect-licenses: no licence file in $path ($dir)" >&2
    exit 1
  fi
  count=$((count + 1))
done <<<"$modules"
chmod -R u+w,a+rX "$out"
echo "collect-licenses: Go + $count modules in $out"
