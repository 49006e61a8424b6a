"""The evaluate command: the validation metrics of a trained preset, overall,
per age bucket, race and source, written beside its checkpoint."""

import json
import os

import torch

import data
import presets
from augment import round_trip
from errors import TrainingError
from pipeline import load_split, load_trained, run_dir, setup_torch, sources_of
from scoring import by_source, headline, metrics, predict_all


def evaluate(args):
    preset = presets.get(args.preset)
    device = setup_torch(args.threads, args.device)
    sources = sources_of(args)
    _, _, (val_s, xv), skipped = load_split(preset, sources)
    net, state = load_trained(run_dir(args.runs, preset, sources), preset, device)
    flip = preset.flip_average if args.flip_average == "preset" else args.flip_average == "on"
    if args.face_px:
        xv = round_trip(xv.float(), args.face_px).round().clamp(0, 255).to(torch.uint8)
    ap, fp = predict_all(net, xv, device, flip)
    if args.ensemble_with:
        # What averaging two trained presets would buy, without exporting it.
        other = presets.get(args.ensemble_with)
        if (other.size, other.gray) != (preset.size, preset.gray):
            raise TrainingError(f"--ensemble-with {other.name}: its input differs from {preset.name}'s")
        net2, _ = load_trained(run_dir(args.runs, other, sources), other, device)
        ap2, fp2 = predict_all(net2, xv, device, flip)
        m = metrics(val_s, (ap + ap2) / 2, (fp + fp2) / 2)
        print(json.dumps({"overall": m["overall"], "flip_average": flip, "ensemble": [preset.name, other.name]}))
        return 0
    m = metrics(val_s, ap, fp)
    m["headline"] = headline(m)
    m["by_source"] = by_source(val_s, ap, fp)
    m["flip_average"] = flip
    m["face_px"] = args.face_px or preset.size
    folders = ", ".join(preset.crops or [os.path.basename(os.path.normpath(d)) for d in args.data])
    m["split"] = f"sha1(file name)[:8] mod 100 < {data.VAL_PERCENT} over {folders}"
    m["gender_temperature"] = state.get("gender_temperature")
    m["skipped_names"] = len(skipped)
    m["epochs"] = state["epoch"]
    m["train_minutes"] = round(state["seconds"] / 60, 1)
    name = "metrics" + ("" if args.flip_average == "preset" else f"-flip-{args.flip_average}")
    name += (f"-{args.face_px}px" if args.face_px else "") + ".json"
    out = os.path.join(run_dir(args.runs, preset, sources), name)
    with open(out, "w") as f:
        json.dump(m, f, indent=2)
    print(json.dumps({"overall": m["overall"], "headline": m["headline"], "flip_average": flip,
                      "face_px": m["face_px"]}))
    print(f"wrote {out} (per age bucket and race too)")
    return 0
