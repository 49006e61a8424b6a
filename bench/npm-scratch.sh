#!/usr/bin/env bash
# bench/npm-scratch.sh PACKAGE_DIR SCRATCH: installs the npm packages that
# PACKAGE_DIR's package-lock.json pins into the scratch folder SCRATCH, with
# install scripts off, and again only when the lock changed. The Node
# benchmarks (faceapi, faceres) share it; none is a dependency of the binary.
set -euo pipefail
here=${1:?usage: bench/npm-scratch.sh PACKAGE_DIR SCRATCH}
scratch=${2:?usage: bench/npm-scratch.sh PACKAGE_DIR SCRATCH}
if ! cmp -s "$here/package-lock.json" "$scratch/.installed-lock.json" 2>/dev/null; then
	echo "installing $(basename "$here")'s npm packages into $scratch (npm ci --ignore-scripts)" >&2
	rm -rf "$scratch"
	mkdir -p "$scratch"
	cp "$here/package.json" "$here/package-lock.json" "$scratch/"
	(cd "$scratch" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
	cp "$here/package-lock.json" "$scratch/.installed-lock.json"
fi
