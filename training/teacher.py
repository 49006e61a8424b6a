"""The teacher-check command: training/faceres.py's rebuild of faceres-deep
against the network as it ships, run by tfjs (bench/faceres/run.sh)."""

import glob
import json
import os

import numpy as np
import torch
from PIL import Image

import data
import faceres
from errors import TrainingError

SIZE = 224  # faceres-deep's own input side
# Agreement the rebuild must reach with tfjs; float32 sums in another order
# differ by far less, a wrong padding or channel order by far more.
MAX_PROB_DIFF = 1e-3
MAX_DESCRIPTOR_REL = 1e-3


def check_images(root, extra):
    """The images the check runs on: those named, else the repository's
    astronaut, a few UTKFace validation faces when ../shared is there, and
    generated images."""
    if extra:
        return [(p, np.asarray(Image.open(p).convert("RGB"))) for p in extra]
    out = [("testdata/astronaut.png", np.asarray(Image.open(os.path.join(root, "testdata", "astronaut.png"))
                                                  .convert("RGB")))]
    utk = sorted(glob.glob(os.path.join(root, "..", "shared", "data", "utkface", "*.jpg")))
    for p in [p for p in utk if data.is_validation(os.path.basename(p))][:6]:
        out.append((os.path.relpath(p, root), np.asarray(Image.open(p).convert("RGB"))))
    rng = np.random.RandomState(3)
    for i in range(3):
        out.append((f"generated-{i}", rng.randint(0, 256, (97 + 40 * i, 131, 3)).astype(np.uint8)))
    return out


def write(io, root, extra):
    images = check_images(root, extra)
    x = torch.from_numpy(np.stack([data.resize_uint8(a, SIZE, False) for _, a in images]))
    inp = faceres.to_input(x)
    os.makedirs(io, exist_ok=True)
    inp.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").tofile(os.path.join(io, "inputs.bin"))
    with open(os.path.join(io, "inputs.json"), "w") as f:
        json.dump({"n": len(images), "size": SIZE, "names": [n for n, _ in images]}, f)
    net = faceres.load(os.path.join(root, "training", ".cache", "teacher", "faceres-deep.json"))
    with torch.no_grad():
        age, male, desc = net(inp)
    torch.save({"age": torch.softmax(age, 1), "male": torch.sigmoid(male), "descriptor": desc},
               os.path.join(io, "torch.pt"))
    print(f"teacher-check: {len(images)} inputs written to {io}")


def compare(io):
    with open(os.path.join(io, "inputs.json")) as f:
        names = json.load(f)["names"]
    with open(os.path.join(io, "tfjs.json")) as f:
        ref = json.load(f)
    ours = torch.load(os.path.join(io, "torch.pt"))
    age_ref, male_ref, desc_ref = (torch.tensor(ref[k]) for k in ("age", "male", "descriptor"))
    ages = torch.arange(faceres.AGE_BINS, dtype=torch.float32)
    worst = {"age_prob": 0.0, "male": 0.0, "descriptor_rel": 0.0}
    print("| image | tfjs age | ours | tfjs P(male) | ours | max age-prob diff | descriptor rel. diff |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for i, name in enumerate(names):
        dp = float((ours["age"][i] - age_ref[i]).abs().max())
        dm = abs(float(ours["male"][i]) - float(male_ref[i]))
        dd = float((ours["descriptor"][i] - desc_ref[i]).norm() / desc_ref[i].norm().clamp_min(1e-12))
        worst = {"age_prob": max(worst["age_prob"], dp), "male": max(worst["male"], dm),
                 "descriptor_rel": max(worst["descriptor_rel"], dd)}
        print(f"| {name} | {float((age_ref[i] * ages).sum()):.2f} | {float((ours['age'][i] * ages).sum()):.2f} | "
              f"{float(male_ref[i]):.4f} | {float(ours['male'][i]):.4f} | {dp:.2e} | {dd:.2e} |")
    print(f"\nworst: age probability {worst['age_prob']:.2e}, P(male) {worst['male']:.2e}, "
          f"descriptor {worst['descriptor_rel']:.2e} (tfjs {ref['tfjs']} {ref['backend']})")
    if max(worst["age_prob"], worst["male"]) > MAX_PROB_DIFF or worst["descriptor_rel"] > MAX_DESCRIPTOR_REL:
        raise TrainingError("the PyTorch rebuild of faceres-deep disagrees with tfjs")
    print("teacher-check: the rebuild agrees with tfjs")


def teacher_check(args):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if args.step == "write":
        write(args.io, root, args.images)
    else:
        compare(args.io)
    return 0
