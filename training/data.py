"""Training data: UTKFace folders with their deterministic splits, CelebA-HQ
crops for gender, near-duplicate removal and the decode cache."""

import csv
import hashlib
import os
import re
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from errors import TrainingError

# AGE_GENDER_RACE_DATETIME.jpg.chip.jpg; UTKFace gender 0 = male, 1 = female.
NAME_RE = re.compile(r"^(\d+)_([01])_([0-4])_\d+.*\.jpg$", re.IGNORECASE)
RACES = ["White", "Black", "Asian", "Indian", "Others"]
VAL_PERCENT = 15
# Names hashing to VAL_PERCENT..CALIB_END-1 are held out of training too: the
# gender temperature is fitted on them, so that validation stays untouched.
CALIB_END = 20
UNKNOWN = -1  # age or race of a sample whose data set does not label it


@dataclass(frozen=True)
class Sample:
    path: str
    age: int  # UNKNOWN for gender-only data (CelebA-HQ)
    female: int
    race: int  # UNKNOWN outside UTKFace
    source: str = "utkface"  # the data set, for per-source validation and balancing


@dataclass(frozen=True)
class Sources:
    """Where a run's images come from, and how many of them it uses."""
    data: tuple  # UTKFace-style folders, for presets without crops
    crops: str  # one folder per cropped source (make crops)
    celebahq: str  # CelebA-HQ's crop folder, for presets with celebahq
    cache: str  # decoded image cache
    limit: int = 0  # at most this many training images (smoke tests)
    train_percent: int = 100  # a fixed share of the training images (learning curves)


@dataclass
class Split:
    train: list
    calib: list
    val: list
    skipped: list


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


def is_calibration(name):
    return VAL_PERCENT <= hash_percentile(name) < CALIB_END


def in_training_subset(name, percent):
    """Whether a training image belongs to the first `percent` of the training
    set, for learning curves. A second hash (salted, so independent of the
    validation split) keeps each subset spread over every age, and makes the
    25% subset part of the 50% one."""
    return hash_percentile("subset:" + name) < percent


def scan(folders, limit=0, train_percent=100):
    """Splits the UTKFace-style files of every folder by name. train_percent
    < 100 keeps only that share of the training images; the validation and
    calibration splits are never reduced."""
    split = Split([], [], [], [])
    for folder in folders:
        if not os.path.isdir(folder):
            raise TrainingError(f"data folder {folder!r} not found (UTKFace-style files expected)")
        for name in sorted(os.listdir(folder)):
            label = parse_name(name)
            if label is None:
                split.skipped.append(name)
                continue
            s = Sample(os.path.join(folder, name), *label)
            if is_validation(name):
                split.val.append(s)
            elif is_calibration(name):
                split.calib.append(s)
            elif in_training_subset(name, train_percent):
                split.train.append(s)
    if limit:
        held = max(1, limit // 4)
        split.train, split.calib, split.val = split.train[:limit], split.calib[:held], split.val[:held]
    return split


def celebahq_samples(crops_dir, train_percent=100):
    """CelebA-HQ faces as cropped by training/facecrop: gender only, every
    one for training (see TRAIN_ONLY)."""
    root, name = os.path.split(os.path.normpath(crops_dir))
    return crop_samples(root, name, train_percent, train_only=True).train


# Sources whose people repeat across images with no identity list: all of
# it trains, none validates (a split would validate on faces it trained on).
TRAIN_ONLY = {"celebahq"}


def crop_samples(crops_root, name, train_percent=100, train_only=None):
    """The faces of one source as training/facecrop cropped them
    (crops_root/name/crops.csv: file,source,age,female,race,detected,score),
    split as scan splits UTKFace: by the source file's own base name, so
    that a UTKFace image is on the same side of the split whether it is read
    whole or as a crop, and `agegender eval --split val` picks the same
    files from the source folder. train_only (by default, whether name is
    one of TRAIN_ONLY) puts every face in training."""
    folder = os.path.join(crops_root, name)
    path = os.path.join(folder, "crops.csv")
    if not os.path.exists(path):
        raise TrainingError(f"{path} not found: crop the source first (make crops)")
    if train_only is None:
        train_only = name in TRAIN_ONLY
    split = Split([], [], [], [])
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            s = Sample(os.path.join(folder, row["file"]), int(row["age"]), int(row["female"]),
                       int(row["race"]), name)
            key = os.path.basename(row["source"])
            if train_only or not (is_validation(key) or is_calibration(key)):
                if in_training_subset(key, train_percent):
                    split.train.append(s)
            elif is_validation(key):
                split.val.append(s)
            else:
                split.calib.append(s)
    return split


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


def load_cached(samples, size, gray, cache_dir):
    """The decoded images of samples, C x size x size uint8 each. Each folder
    has one npz cache that grows with every image decoded from it, so later
    runs over any split or subset of the same folders decode nothing."""
    by_folder = {}
    for s in samples:
        by_folder.setdefault(os.path.dirname(s.path), []).append(os.path.basename(s.path))
    found = {}
    for folder, names in by_folder.items():
        cached, x = folder_cache(folder, names, size, gray, cache_dir)
        index = {n: i for i, n in enumerate(cached)}
        for n in names:
            found[os.path.join(folder, n)] = x[index[n]]
    if not samples:
        return np.zeros((0, 1 if gray else 3, size, size), dtype=np.uint8)
    return np.stack([found[s.path] for s in samples])


def folder_cache(folder, names, size, gray, cache_dir):
    """Returns (cached names, their images) for folder, decoding and adding
    those of names not cached yet."""
    key = hashlib.sha1(f"{os.path.abspath(folder)}:{size}:{gray}".encode()).hexdigest()[:12]
    path = os.path.join(cache_dir, f"folder_{size}_{'gray' if gray else 'rgb'}_{key}.npz")
    cached, x = [], np.zeros((0, 1 if gray else 3, size, size), dtype=np.uint8)
    if os.path.exists(path):
        with np.load(path) as z:
            cached, x = [str(n) for n in z["names"]], z["x"]
    missing = sorted(set(names) - set(cached))
    if not missing:
        return cached, x
    fresh = np.stack([load_image(os.path.join(folder, n), size, gray) for n in missing])
    cached, x = cached + missing, np.concatenate([x, fresh])
    os.makedirs(cache_dir, exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez(tmp, names=np.array(cached), x=x)
    os.replace(tmp, path)
    return cached, x


def dhash(x_uint8):
    """64-bit difference hashes of a batch of C x H x W images: the sign of
    each horizontal step of an 8x9 gray thumbnail. Copies of one photo
    (re-encoded, lightly resized) land within a few bits of each other."""
    g = torch.from_numpy(x_uint8).float().mean(dim=1, keepdim=True)
    t = F.adaptive_avg_pool2d(g, (8, 9))[:, 0]
    bits = (t[:, :, 1:] > t[:, :, :-1]).reshape(len(x_uint8), 64).numpy()
    return np.packbits(bits, axis=1).view(">u8").ravel()


def near_duplicates(held, train, max_bits=4, max_diff=12.0):
    """Indices of the train images that copy a held-out one: their difference
    hashes within max_bits, confirmed by a mean absolute pixel difference
    under max_diff (of 255). Aligned faces share coarse gradients, so the
    hash alone matched 10% of the training set; on UTKFace the pixel
    differences of those candidates split cleanly, about 230 pairs under 12
    and nearly all the rest over 20.

    Hashes are split into max_bits+1 chunks: two within max_bits agree on at
    least one chunk exactly (pigeonhole), so only those pairs are compared."""
    if not len(held) or not len(train):
        return []
    held_h, train_h = dhash(held), dhash(train)
    chunks = [(s, 13 if s < 52 else 12) for s in range(0, 64, 13)]
    buckets = {}
    for i, h in enumerate(held_h):
        for c, (shift, width) in enumerate(chunks):
            buckets.setdefault((c, (int(h) >> shift) & ((1 << width) - 1)), []).append(i)
    out = set()
    for j, h in enumerate(train_h):
        for c, (shift, width) in enumerate(chunks):
            for i in buckets.get((c, (int(h) >> shift) & ((1 << width) - 1)), ()):
                if j in out or bin(int(h) ^ int(held_h[i])).count("1") > max_bits:
                    continue
                if np.abs(held[i].astype(np.int16) - train[j].astype(np.int16)).mean() < max_diff:
                    out.add(j)
    return sorted(out)


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
