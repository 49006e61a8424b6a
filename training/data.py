"""UTKFace loading, the deterministic train/validation split and the decode cache."""

import hashlib
import os
import re
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

# AGE_GENDER_RACE_DATETIME.jpg.chip.jpg; UTKFace gender 0 = male, 1 = female.
NAME_RE = re.compile(r"^(\d+)_([01])_([0-4])_\d+.*\.jpg$", re.IGNORECASE)
RACES = ["White", "Black", "Asian", "Indian", "Others"]
VAL_PERCENT = 15


@dataclass(frozen=True)
class Sample:
    path: str
    age: int
    female: int
    race: int


def parse_name(name):
    """Returns (age, female, race) from a UTKFace file name, or None."""
    m = NAME_RE.match(name)
    if not m:
        return None
    age = int(m.group(1))
    if age < 0 or age > 120:
        return None
    return age, int(m.group(2)), int(m.group(3))


def hash_percentile(key):
    """The first 8 hex digits of sha1(key), as an integer, mod 100."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % 100


def is_validation(name):
    """The split: the first 8 hex digits of sha1(file name) mod 100 < VAL_PERCENT.

    Hashing the bare name keeps the split stable across machines, folder
    layouts and file order; the Go evaluator uses the same rule.
    """
    return hash_percentile(name) < VAL_PERCENT


def in_training_subset(name, percent):
    """Whether a training image belongs to the first `percent` of the training
    set, for learning curves. A second hash (salted, so independent of the
    validation split) keeps each subset spread over every age, and makes the
    25% subset part of the 50% one."""
    return hash_percentile("subset:" + name) < percent


def scan(folder, limit=0, train_percent=100):
    """Returns (train, val, skipped) lists of Samples / skipped names.
    train_percent < 100 keeps only that share of the training images; the
    validation split is never reduced."""
    if not os.path.isdir(folder):
        raise SystemExit(f"data folder {folder!r} not found (UTKFace-style files expected)")
    train, val, skipped = [], [], []
    for name in sorted(os.listdir(folder)):
        label = parse_name(name)
        if label is None:
            skipped.append(name)
            continue
        s = Sample(os.path.join(folder, name), *label)
        if is_validation(name):
            val.append(s)
        elif in_training_subset(name, train_percent):
            train.append(s)
    if limit:
        train, val = train[:limit], val[: max(1, limit // 4)]
    return train, val, skipped


def load_image(path, size, gray):
    """Decodes and resizes one image exactly as the Go side does.

    The contract (also written into the ONNX metadata): decode to 8-bit RGB,
    optionally convert to gray with ITU-R 601 luma (L = (299R + 587G + 114B)/1000),
    resize the whole crop to size x size with an antialiased bilinear (triangle)
    filter whose support widens with the downscale factor, pixel centres
    aligned (align_corners=False), then round to 8 bits.
    Returns a uint8 array, C x H x W.
    """
    with Image.open(path) as im:
        im = im.convert("RGB")
        arr = np.asarray(im, dtype=np.uint8)
    return resize_uint8(arr, size, gray)


def resize_uint8(arr, size, gray):
    """arr: H x W x 3 uint8 -> C x size x size uint8 (see load_image)."""
    x = torch.from_numpy(arr.copy()).permute(2, 0, 1).float().unsqueeze(0)
    if gray:
        x = torch.round((x[:, 0:1] * 299 + x[:, 1:2] * 587 + x[:, 2:3] * 114) / 1000)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8)[0].numpy()


def cache_path(cache_dir, folder, size, gray, samples):
    key = hashlib.sha1()
    key.update(os.path.abspath(folder).encode())
    key.update(f"{size}:{gray}:{len(samples)}".encode())
    for s in samples:
        key.update(os.path.basename(s.path).encode())
    return os.path.join(cache_dir, f"utk_{size}_{'gray' if gray else 'rgb'}_{key.hexdigest()[:12]}.npz")


def load_cached(samples, folder, size, gray, cache_dir):
    """Decodes every sample once into an npz cache; later runs load it."""
    path = cache_path(cache_dir, folder, size, gray, samples)
    if os.path.exists(path):
        with np.load(path) as z:
            return z["x"]
    x = np.stack([load_image(s.path, size, gray) for s in samples]) if samples else np.zeros((0,))
    os.makedirs(cache_dir, exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez(tmp, x=x)
    os.replace(tmp, path)
    return x


def labels(samples):
    return (
        torch.tensor([s.age for s in samples], dtype=torch.float32),
        torch.tensor([s.female for s in samples], dtype=torch.float32),
        torch.tensor([s.race for s in samples], dtype=torch.long),
    )


def age_bucket(age):
    for i, hi in enumerate((10, 20, 40, 60)):
        if age < hi:
            return i
    return 4


BUCKETS = ["0-9", "10-19", "20-39", "40-59", "60+"]
