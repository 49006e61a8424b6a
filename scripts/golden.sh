#!/usr/bin/env bash
# golden.sh BIN OUTDIR: runs the README's examples, eval --detect off, and
# batch's shard, merge and resume paths with BIN, writing every output under
# OUTDIR. Run it with the build before a refactor and after, then
# `diff -r before after`: the outputs must be byte-identical. Needs ../shared.
set -euo pipefail
bin=$(realpath "$1"); out=$2
data=$(realpath ../shared/data)
repo=$PWD
export AGEGENDER_ORT_LIB=${AGEGENDER_ORT_LIB:-$(ls "$repo"/.deps/lib/libonnxruntime.so* | head -n1)}
[ -d "$data/utkface" ] || { echo "golden.sh: needs $data (the shared data)" >&2; exit 1; }
rm -rf "$out"; mkdir -p "$out"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# A fixed, small folder of real inputs, with one broken file among them.
photos=$work/photos; mkdir -p "$photos/sub"
mapfile -t chips < <(ls "$data/utkface" | grep -i '\.jpg$' | sort)
for f in "${chips[@]:0:40}"; do cp "$data/utkface/$f" "$photos/"; done
mapfile -t wider < <(ls "$data/widerface/images/0--Parade" | sort)
for f in "${wider[@]:0:3}"; do cp "$data/widerface/images/0--Parade/$f" "$photos/sub/"; done
head -c 3000 "$photos/sub/${wider[0]}" > "$photos/sub/truncated.jpg"
echo "not an image" > "$photos/notes.png"
cd "$work"

run() { # name, then the command; stdout and stderr kept, and the exit code
	local name=$1; shift
	set +e; "$@" >"$out/$name.stdout" 2>"$out/$name.stderr"; echo $? >"$out/$name.rc"; set -e
}
run predict-table "$bin" predict "$repo/testdata/astronaut.png"
run predict-json "$bin" predict --json "$repo/testdata/astronaut.png" photos/sub/truncated.jpg
run predict-csv "$bin" predict --csv - "$repo/testdata/astronaut.png"
run predict-stdin sh -c "\"$bin\" predict --json - < \"$repo/testdata/astronaut.png\""
run batch-csv "$bin" batch photos --csv faces.csv -q; cp faces.csv "$out/faces.csv"
run batch-json "$bin" batch photos --json faces.json -q; cp faces.json "$out/faces.json"
run batch-stdin sh -c "find photos -name '*.jpg' -print0 | sort -z | \"$bin\" batch -q -0 - --jsonl -"
run batch-jsonl "$bin" batch photos --jsonl all.jsonl -q; cp all.jsonl "$out/all.jsonl"
for i in 0 1 2; do run "shard-$i" "$bin" batch photos --shard $i/3 -q --jsonl "p$i.jsonl"; cp "p$i.jsonl" "$out/p$i.jsonl"; done
run merge-jsonl "$bin" merge --out merged.jsonl p0.jsonl p1.jsonl p2.jsonl -- photos; cp merged.jsonl "$out/merged.jsonl"
for i in 0 1; do run "shardcsv-$i" "$bin" batch photos --shard $i/2 -q --csv "c$i.csv"; done
run merge-csv "$bin" merge --out - c0.csv c1.csv -- photos
run merge-missing "$bin" merge --out - p0.jsonl p1.jsonl -- photos
run merge-dup "$bin" merge --out - p0.jsonl p0.jsonl p1.jsonl p2.jsonl -- photos
# Resume: a run cut after 17 rows and half a row, then resumed.
head -n 17 all.jsonl > r.jsonl; sed -n 18p all.jsonl | head -c 40 >> r.jsonl
run resume-jsonl "$bin" batch photos -q --resume --jsonl r.jsonl; cp r.jsonl "$out/resume.jsonl"
head -n 12 faces.csv > r.csv
run resume-csv "$bin" batch photos -q --resume --csv r.csv; cp r.csv "$out/resume.csv"
head -n 5 all.jsonl > bad.jsonl; sed -n 9p all.jsonl >> bad.jsonl
run resume-stray "$bin" batch photos -q --resume --jsonl bad.jsonl; cp bad.jsonl "$out/resume-refused.jsonl"
run eval-off "$bin" eval "$data/utkface" --split val --detect off
run version "$bin" version
