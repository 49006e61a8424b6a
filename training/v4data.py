"""Model v4's data: every source cropped once by training/facecrop with a
wide margin (make crops-v4), cut to the margin and size a preset asks for,
and the frozen part of faceres-deep run once over it.

Fine-tuning on 2 cores fits in a session only because the early blocks are
frozen: their activations are computed once per image and view (the crop
as is, and one augmented view) and cached, and training runs the last
blocks and the heads alone."""

import csv
import hashlib
import os
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

import data
import faceres
from augment import augment
from errors import TrainingError

# facecrop -margin of the crops v4 reads; every preset's margin is cut from it.
WIDE_MARGIN = 1.5
SOURCES = ("utkface", "utkface-more", "aaf", "celebahq", "wider-faces")
# Sources whose images all train: CelebA-HQ's people repeat with no identity
# list, and wider-faces is validated on widerface/'s disjoint 500 photos.
TRAIN_ONLY = {"celebahq", "wider-faces"}
# wider-faces' perceived age groups as year ranges, with the bounds
# bench/widerface scores them by (30, 45, 60).
AGE_GROUPS = {"Young Adult": (0, 30), "Adult": (30, 45), "Middle age": (45, 60), "Senior": (60, faceres.AGE_BINS)}


@dataclass
class Part:
    """One split's faces: samples (data.Sample) and each one's age group
    index in AGE_GROUPS order, -1 where there is none."""
    samples: list
    groups: list


def read_groups(labels_csv):
    """wider-faces' age group by crop name (the source file without its
    extension), as an index into AGE_GROUPS."""
    names = list(AGE_GROUPS)
    out = {}
    with open(labels_csv, newline="") as f:
        for row in csv.DictReader(f):
            if row["age_group"] in AGE_GROUPS:
                out[os.path.splitext(row["file"])[0]] = names.index(row["age_group"])
    return out


def undetected(crops_root, name):
    """The crops of source name that facecrop took whole, no face found."""
    with open(os.path.join(crops_root, name, "crops.csv"), newline="") as f:
        return {os.path.join(crops_root, name, r["file"]) for r in csv.DictReader(f) if r["detected"] != "true"}


def load_splits(crops_root, wider_labels, sources=SOURCES):
    """The training, calibration and validation faces of the sources, split
    by source file name as training v3 and `agegender eval --split val` split
    them. wider-faces' crops where no face was found are left out: they are
    small faces cut from photos, which the CLI would not find either, and
    taken whole they are framed unlike any face the model is given."""
    parts = {k: Part([], []) for k in ("train", "calib", "val")}
    groups = read_groups(wider_labels) if "wider-faces" in sources and os.path.exists(wider_labels) else {}
    for name in sources:
        split = data.crop_samples(crops_root, name, train_only=name in TRAIN_ONLY)
        if name == "wider-faces":
            whole = undetected(crops_root, name)
            split.train = [s for s in split.train if s.path not in whole]
        for key, samples in (("train", split.train), ("calib", split.calib), ("val", split.val)):
            parts[key].samples += samples
            parts[key].groups += [groups.get(os.path.splitext(os.path.basename(s.path))[0], -1)
                                  if name == "wider-faces" else -1 for s in samples]
    return parts["train"], parts["calib"], parts["val"]


def cut(arr, margin, size):
    """The centre of a WIDE_MARGIN crop (H x W x 3 uint8) that a crop of
    margin holds, resized to size as the Go side resizes (3 x size x size)."""
    k = arr.shape[0]
    side = max(1, round(k * margin / WIDE_MARGIN))
    off = (k - side) // 2
    return data.resize_uint8(arr[off:off + side, off:off + side], size, False)


def faces(samples, margin, size, cache_dir):
    """The crops of samples at margin and size, N x 3 x size x size uint8,
    cached per source folder so that a later run decodes nothing."""
    by_folder = {}
    for i, s in enumerate(samples):
        by_folder.setdefault(os.path.dirname(s.path), []).append(i)
    out = np.zeros((len(samples), 3, size, size), dtype=np.uint8)
    for folder, idx in by_folder.items():
        key = hashlib.sha1(f"{os.path.abspath(folder)}:{margin}:{size}".encode()).hexdigest()[:12]
        path = os.path.join(cache_dir, f"v4faces_{size}_{margin}_{key}.npz")
        cached = {}
        if os.path.exists(path):
            with np.load(path) as z:
                cached = dict(zip((str(n) for n in z["names"]), z["x"]))
        names = [os.path.basename(samples[i].path) for i in idx]
        missing = [n for n in names if n not in cached]
        for n in missing:
            with Image.open(os.path.join(folder, n)) as im:
                cached[n] = cut(np.asarray(im.convert("RGB")), margin, size)
        if missing:
            os.makedirs(cache_dir, exist_ok=True)
            keys = sorted(cached)
            np.savez(path + ".tmp.npz", names=np.array(keys), x=np.stack([cached[n] for n in keys]))
            os.replace(path + ".tmp.npz", path)
        for i, n in zip(idx, names):
            out[i] = cached[n]
    return out


@torch.no_grad()
def activations(net, x_uint8, start, view="clean", seed=0, batch=64):
    """The input of trunk layer start for every image, float16: the stem and
    blocks before it run here once, and training runs the rest. view
    "augmented" runs each image through training's augmentation first
    (flip, shift, scale, rotation, colour, low resolution, blur, JPEG)."""
    if start < 1:
        raise TrainingError("at least the stem is frozen (start >= 1)")
    gen = torch.Generator().manual_seed(seed)
    head = net.trunk[:start].eval()
    chunks = []
    for i in range(0, len(x_uint8), batch):
        xb = torch.from_numpy(x_uint8[i:i + batch]).float()
        if view == "augmented":
            xb = augment(xb, gen, lowres=0.3, robust=True)
        chunks.append(head(faceres.to_input(xb.round())).half())
    if not chunks:  # a split with no face still has the activations' shape
        side = x_uint8.shape[-1]
        return head(torch.zeros(1, 3, side, side))[:0].half()
    return torch.cat(chunks)
