#!/usr/bin/env bash
# Checks the release configuration without publishing anything: validates
# .goreleaser.yaml, runs `goreleaser release --snapshot` for the host's arch
# (linux/amd64 or linux/arm64) into dist/, lists it, and runs the unpacked binary from another
# folder with no AGEGENDER_* variables, so it must find lib/ and models/ itself.
# Set RELEASE_CHECK_ALL=1 to build every target (arm64 from amd64 needs
# gcc-aarch64-linux-gnu).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

GORELEASER_VERSION=v2.15.1
goreleaser=$(command -v goreleaser || true)
if [ -z "$goreleaser" ]; then
  goreleaser="$(go env GOPATH)/bin/goreleaser"
  if [ ! -x "$goreleaser" ]; then
    echo "release-check: installing goreleaser $GORELEASER_VERSION"
    go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
  fi
fi

"$goreleaser" check

case "$(uname -m)" in
  x86_64|amd64) arch=amd64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) echo "release-check: no release target for $(uname -m)" >&2; exit 1 ;;
esac

# `release` has no --single-target (only `build` has); the config limits the
# builds to AGEGENDER_RELEASE_ARCH instead.
if [ "${RELEASE_CHECK_ALL:-}" = 1 ]; then
  env -u AGEGENDER_RELEASE_ARCH "$goreleaser" release --snapshot --clean
else
  AGEGENDER_RELEASE_ARCH=$arch "$goreleaser" release --snapshot --clean
fi

shopt -s nullglob
archives=(dist/*.tar.gz)
[ ${#archives[@]} -gt 0 ] || { echo "release-check: no archive in dist/" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for archive in "${archives[@]}"; do
  echo "== $archive"
  tar -tvzf "$archive"
  name=$(basename "$archive" .tar.gz)
  for want in agegender lib/libonnxruntime.so.1 models/yunet_n.onnx \
    models/accurate.onnx models/fast.onnx models/README.md README.md THIRD_PARTY_NOTICES.md third_party/yunet/LICENSE third_party/faceres/LICENSE \
    third_party/onnxruntime/package.json third_party/go/LICENSE; do
    tar -tzf "$archive" "$name/$want" >/dev/null 2>&1 ||
      { echo "release-check: $archive lacks $name/$want" >&2; exit 1; }
  done
done

# Run the host's archive from an unrelated folder with a clean environment.
host=(dist/agegender_*_linux_"$arch".tar.gz)
archive=${host[0]}
tar -xzf "$archive" -C "$tmp"
bin="$tmp/$(basename "$archive" .tar.gz)/agegender"
mkdir "$tmp/cwd"
image=${RELEASE_CHECK_IMAGE:-}
if [ -z "$image" ]; then
  faces=("$root"/../shared/data/utkface/*.chip.jpg)
  image=${faces[0]:-$root/testdata/parity/synthetic_0.png}
fi
image=$(cd "$(dirname "$image")" && pwd)/$(basename "$image")
echo "== $bin (cwd $tmp/cwd, clean environment)"
version=$(cd "$tmp/cwd" && env -i PATH=/usr/bin:/bin HOME="$tmp" "$bin" version)
echo "$version"
# The release build names its version (.goreleaser.yaml's -X main.version),
# which goreleaser records in dist/metadata.json.
want=$(grep -o '"version": *"[^"]*"' dist/metadata.json | head -n1 | sed 's/.*"\([^"]*\)"$/\1/')
[ -n "$want" ] || { echo "release-check: no version in dist/metadata.json" >&2; exit 1; }
first=$(head -n1 <<<"$version")
case "$first" in
  "agegender $want" | "agegender $want "*) ;;
  *) echo "release-check: the binary says \"$first\", not agegender $want" >&2; exit 1 ;;
esac
# `version` reports a missing runtime in its output rather than its exit status.
grep -q '^ONNX Runtime ' <<<"$version" || { echo "release-check: the unpacked binary found no ONNX Runtime" >&2; exit 1; }
(cd "$tmp/cwd" && env -i PATH=/usr/bin:/bin HOME="$tmp" "$bin" predict --detect auto "$image")
echo "release-check: ok"
