#!/usr/bin/env bash
# Side by side: face-api's ageGenderNet and our model on the UTKFace
# validation split, in one table. See bench/faceapi/README.md.
#
#   bench/faceapi/run.sh [--model PATH] [--limit N] [--data DIR] [--backend wasm|cpu] [--no-check]
#
# The npm packages (pinned by package-lock.json) go into out/faceapi-node/,
# a scratch folder, with install scripts disabled; results go to out/faceapi/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
scratch="$repo/out/faceapi-node"

command -v node >/dev/null || { echo "run.sh: node is not installed (Node.js 18 or later)" >&2; exit 1; }
command -v npm >/dev/null || { echo "run.sh: npm is not installed" >&2; exit 1; }
[[ -x "$repo/bin/agegender" ]] || { echo "run.sh: $repo/bin/agegender is missing: run make setup" >&2; exit 1; }

# A --model path relative to where run.sh was started is made absolute, as
# the CLI runs from the repository root.
pass=()
while (($#)); do
	case "$1" in
	--model | --data)
		(($# >= 2)) || { echo "run.sh: $1 needs a value" >&2; exit 1; }
		# A preset's name (--model fast) is not a path.
		if [[ $1 == --model && ! -e $2 && $2 != */* ]]; then
			pass+=("$1" "$2")
		else
			pass+=("$1" "$(realpath -- "$2")")
		fi
		shift 2
		;;
	-h | --help)
		sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		pass+=("$1")
		shift
		;;
	esac
done

"$repo/bench/npm-scratch.sh" "$here" "$scratch"

cd "$repo"
exec node "$here/faceapi.mjs" --repo "$repo" --modules "$scratch/node_modules" "${pass[@]}"
