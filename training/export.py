"""The export, fixture and card commands: what leaves training for the Go side."""

import inspect
import json
import os
import subprocess
import time

import numpy as np
import torch

import data
import nets
import presets
from errors import TrainingError
from pipeline import load_trained, run_dir, setup_torch, sources_of
from scoring import normalize


def git_commit(root):
    try:
        return subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def export(args):
    import onnx

    preset = presets.get(args.preset)
    device = torch.device("cpu")
    setup_torch(args.threads)
    sources = sources_of(args)
    folder = run_dir(args.runs, preset, sources)
    net, state = load_trained(folder, preset, device, args.untrained)
    model = nets.Exported(net, preset.flip_average, preset.size).eval()
    ch = 1 if preset.gray else 3
    dummy = torch.zeros(2, ch, preset.size, preset.size)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        # Newer PyTorch defaults to the dynamo exporter (which needs
        # onnxscript); the TorchScript one makes the same graph everywhere.
        kwargs["dynamo"] = False
    torch.onnx.export(model, dummy, tmp, input_names=["input"], output_names=["age", "female_probability"],
                      dynamic_axes={"input": {0: "batch"}, "age": {0: "batch"}, "female_probability": {0: "batch"}},
                      opset_version=13, do_constant_folding=True, **kwargs)

    framing = None
    if os.path.exists(args.framing):
        with open(args.framing) as f:
            framing = json.load(f)
    metrics_path = os.path.join(folder, "metrics.json")
    val_metrics = None
    if not args.untrained and os.path.exists(metrics_path):
        with open(metrics_path) as f:
            val_metrics = json.load(f)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    meta = contract(preset, net, state, framing, val_metrics, git_commit(root), sources.data, args.untrained)
    finish_export(tmp, args.out, meta)
    return 0


def finish_export(tmp, out, meta):
    """Checks the ONNX file torch wrote at tmp, writes the contract into its
    metadata (the only thing the Go side reads) and moves it to out."""
    import onnx

    m = onnx.load(tmp)
    onnx.checker.check_model(m)
    del m.metadata_props[:]
    entry = m.metadata_props.add()
    entry.key, entry.value = "agegender", json.dumps(meta, indent=1)
    m.producer_name = "agegender-training"
    onnx.save(m, tmp)
    os.replace(tmp, out)
    print(f"exported {out} ({os.path.getsize(out) / 1e6:.2f} MB)")


def contract(preset, net, state, framing, val_metrics, commit, data_dirs, untrained):
    """The preprocessing and output contract that the Go side reads."""
    ch = 1 if preset.gray else 3
    cmd = f"make {'crops ' if preset.crops else ''}train export PRESET={preset.name}"
    return {
        "schema": 1,
        "name": f"agegender-{preset.name}",
        "version": time.strftime("%Y-%m-%d") + "+" + commit[:8],
        "input": {
            "name": "input",
            "layout": "NCHW",
            "width": preset.size,
            "height": preset.size,
            "color": "gray" if preset.gray else "rgb",
            "channel_order": "L" if preset.gray else "RGB",
            "gray_weights": [0.299, 0.587, 0.114],
            "resize": "bilinear-antialias",
            "rounding": "resized pixels are rounded to 8 bits",
            "scale": 1 / 127.5,
            "offset": -1.0,
            "formula": "x = pixel / 127.5 - 1 (pixel in 0..255)",
        },
        "crop": framing or {
            "style": "utkface-aligned-cropped",
            "note": "no measured framing: the whole image is taken as the crop",
        },
        "outputs": {
            "age": {"name": "age", "unit": "years", "shape": ["batch"]},
            "gender": {"name": "female_probability", "shape": ["batch"],
                       "meaning": "probability that the face is Female", "positive": "Female",
                       "negative": "Male"},
        },
        "architecture": {
            "preset": preset.name,
            "class": type(net).__name__,
            "parameters": nets.count_params(net),
            "mmac": round(nets.count_macs(net, (ch, preset.size, preset.size)) / 1e6, 1),
            "flip_average": preset.flip_average,
            "notes": preset.notes,
        },
        "training": {
            "data": training_data(preset, data_dirs),
            "license": "UTKFace" + (", AAF" if "aaf" in preset.crops else "")
                       + (" and CelebA-HQ are" if preset.celebahq or "celebahq" in preset.crops else " is")
                       + " for non-commercial research use only; image copyrights stay with their owners",
            "split": f"validation = sha1(file name)[:8] mod 100 < {data.VAL_PERCENT}; calibration = "
                     f"{data.VAL_PERCENT} to {data.CALIB_END - 1}; training images that nearly duplicate "
                     "either are dropped",
            "gender_temperature": state.get("gender_temperature"),
            "epochs": state["epoch"],
            "minutes": round(state["seconds"] / 60, 1),
            "command": cmd,
            "git_commit": commit,
            "untrained": bool(untrained),
        },
        "metrics": val_metrics,
    }


def training_data(preset, data_dirs):
    """Names the data a preset trained on, for the metadata."""
    if not preset.crops:
        return ("UTKFace aligned & cropped (Zhang, Song, Qi, CVPR 2017), folders "
                + ", ".join(os.path.basename(os.path.normpath(d)) for d in data_dirs)
                + ("; CelebA-HQ (Lee et al., CVPR 2020) for gender, cropped by training/facecrop"
                   if preset.celebahq else ""))
    names = {"utkface": "UTKFace utkface/ (Zhang, Song, Qi, CVPR 2017)", "utkface-more": "UTKFace utkface-more/",
             "aaf": "All-Age-Faces (Cheng et al., 2019)", "celebahq": "CelebA-HQ (Lee et al., CVPR 2020) for gender"}
    return ("; ".join(names.get(c, c) for c in preset.crops)
            + "; every image cropped by training/facecrop, the CLI's own detection and alignment")


def synthetic_images():
    """The parity fixture's images: generated shapes of several sizes and
    aspect ratios, the same on every run. Yields (name, PIL image)."""
    from PIL import Image, ImageDraw

    rng = np.random.RandomState(7)
    for i, (w, h) in enumerate([(200, 200), (173, 241), (97, 64), (320, 180)]):
        im = Image.new("RGB", (w, h), tuple(int(v) for v in rng.randint(0, 256, 3)))
        dr = ImageDraw.Draw(im)
        for _ in range(12):
            x0, y0 = rng.randint(0, w), rng.randint(0, h)
            x1, y1 = x0 + rng.randint(4, w // 2 + 5), y0 + rng.randint(4, h // 2 + 5)
            col = tuple(int(v) for v in rng.randint(0, 256, 3))
            (dr.ellipse if rng.rand() < 0.5 else dr.rectangle)([x0, y0, x1, y1], fill=col)
        yield f"synthetic_{i}.png", im


def write_fixture(out, preset_name, size, gray, model):
    """Writes the parity fixture: each synthetic image, training's 8-bit
    pixels for it and model's outputs (age, P(female) and, when the model
    gives them, the age interval at the default level)."""
    os.makedirs(out, exist_ok=True)
    cases = []
    for name, im in synthetic_images():
        im.save(os.path.join(out, name))
        pix = data.resize_uint8(np.asarray(im), size, gray)
        x = normalize(torch.from_numpy(pix).unsqueeze(0))
        with torch.no_grad():
            outputs = model(x)
        case = {"image": name, "pixels": [int(v) for v in pix.flatten()],
                "age": float(outputs[0][0]), "female_probability": float(outputs[1][0])}
        if len(outputs) > 2:
            import v4train
            lo, hi = v4train.central_interval(outputs[2], 0.8)
            case["age_low"], case["age_high"] = float(lo[0]), float(hi[0])
        cases.append(case)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"preset": preset_name, "shape": list(x.shape[1:]),
                   "normalize": "x = pixel / 127.5 - 1", "cases": cases}, f)
    print(f"wrote {len(cases)} parity cases to {out}")


def fixture(args):
    """Writes synthetic images, their preprocessed tensors and the PyTorch
    outputs, so the Go tests can check pixel and output parity with ORT."""
    preset = presets.get(args.preset)
    setup_torch(args.threads)
    device = torch.device("cpu")
    net, _ = load_trained(run_dir(args.runs, preset, sources_of(args)), preset, device)
    model = nets.Exported(net, preset.flip_average, preset.size).eval()
    write_fixture(args.out, preset.name, preset.size, preset.gray, model)
    return 0


def card(args):
    """Prints the validation metrics of a preset as Markdown tables, for the
    model card (models/README.md)."""
    preset = presets.get(args.preset)
    path = os.path.join(run_dir(args.runs, preset, sources_of(args)), "metrics.json")
    if not os.path.exists(path):
        raise TrainingError(f"no {path}: run 'evaluate --preset {preset.name}' first")
    with open(path) as f:
        m = json.load(f)
    print("| group | n | age MAE | bias | within 5 y | gender accuracy | gender ECE |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rows = [("all", m["overall"])] + list(m["per_age_bucket"].items()) + list(m["per_race"].items())
    rows += [(f"{r}, 20+", v) for r, v in m.get("adult_per_race", {}).items()]
    rows += [(f"folder {f}", v) for f, v in m.get("per_folder", {}).items()]
    for name, r in rows:
        if r.get("n"):
            print(f"| {name} | {r['n']} | {r['age_mae']:.2f} | {r['age_bias']:+.2f} | "
                  f"{100 * r['within_5']:.1f}% | {100 * r['gender_accuracy']:.1f}% | {r.get('gender_ece', 0):.3f} |")
    if m.get("adult_race_mae_spread") is not None:
        print(f"\nadult (20+) age MAE spread across races: {m['adult_race_mae_spread']:.2f} years")
    print(f"\n{m['epochs']} epochs, {m['train_minutes']} min; split: {m['split']}")
    return 0
