#!/usr/bin/env bash
# Checks training/faceres.py's PyTorch rebuild of faceres-deep against the
# network as it ships, run by tfjs's WASM backend in Node: see README.md.
#
#   bench/faceres/run.sh [IMAGE...]     (default: testdata/astronaut.png and
#                                        generated images; UTKFace val crops when
#                                        ../shared/data is there)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
scratch="$repo/out/faceres-node"
teacher="$repo/training/.cache/teacher"
python=${PYTHON:-/usr/bin/python3}

command -v node >/dev/null || { echo "run.sh: node is not installed (Node.js 18 or later)" >&2; exit 1; }
[[ -f "$teacher/faceres-deep.json" ]] || "$repo/scripts/fetch-teacher.sh"
"$repo/bench/npm-scratch.sh" "$here" "$scratch"
io="$repo/out/faceres"
mkdir -p "$io"
"$python" "$repo/training/main.py" teacher-check write --io "$io" "$@"
node "$here/faceres.mjs" --modules "$scratch/node_modules" --model "$teacher/faceres-deep.json" --io "$io"
"$python" "$repo/training/main.py" teacher-check compare --io "$io"
