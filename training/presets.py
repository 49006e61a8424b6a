"""Training presets: everything that defines a model, in one place."""

from dataclasses import dataclass, replace

import nets
from errors import TrainingError


@dataclass
class Preset:
    name: str
    size: int
    gray: bool
    build: object  # () -> nn.Module
    epochs: int
    batch: int
    lr: float
    optimizer: str  # "adam" or "adamw"
    schedule: str  # "constant" or "onecycle"
    weight_decay: float = 0.0
    augment: bool = False
    erase: float = 0.0  # probability of random erasing, on top of augment
    lowres: float = 0.0  # probability of a low-resolution round trip, on top of augment
    flip_average: bool = False
    # The age loss (cross-entropy over 101 bins) is about ten times the gender
    # loss late in training; a weight above 1 gives gender more of the trunk.
    gender_weight: float = 1.0
    # Whether CelebA-HQ's faces (gender only, cropped by training/facecrop)
    # join the training images.
    celebahq: bool = False
    # A trained preset whose predictions on each augmented batch the net also
    # learns from (knowledge distillation), with this share of the loss.
    teacher: str = ""
    distill: float = 0.5
    # Each epoch shows every child (age under 10) this many times.
    child_repeat: int = 1
    # Sources cropped by training/facecrop (folders under --crops), read
    # instead of --data: every face framed exactly as inference frames it.
    crops: tuple = ()
    # Each epoch draws images with each (source, age bucket) group weighted
    # by its size to this power, negated (0: every image once).
    balance: float = 0.0
    # Degradations real photos bring: white balance, sepia, blur and JPEG.
    robust: bool = False
    # Batch-norm statistics recomputed after training over the training
    # images "clean" (un-augmented, with mirrors) or "augmented" (one epoch
    # of training draws through the training augmentation).
    recalibrate: str = "clean"
    notes: str = ""


# The recipe our CNN presets share: RGB 64x64, a compact VGG-style CNN
# (24-48-96-192 channels) with an age distribution head, augmentation, AdamW
# with one-cycle, and flip averaging inside the exported graph. See the table
# in training/README.md.
PLAIN = Preset(
    name="plain", size=64, gray=False, build=lambda: nets.CompactNet(3),
    epochs=60, batch=64, lr=3e-3, optimizer="adamw", schedule="onecycle",
    weight_decay=5e-4, augment=True, flip_average=True,
    notes="compact CNN 24-48-96-192, age distribution head, augmentation, flip averaging",
)

# Ours: the shared recipe, with half the training images taken through a
# 16-60 px round trip first. Faces in photos are mostly that small (WIDER
# FACE's median is about 40 px): `plain` loses 3.2 years of MAE and 3.5
# points of gender accuracy when its validation faces are 32 px wide, this
# one 0.2 years and 0.7 points, for 0.06 years and 0.3 points at full size.
DEFAULT = replace(
    PLAIN, name="default", lowres=0.5,
    notes="compact CNN 24-48-96-192, age distribution head, augmentation with a 16-60 px "
          "round trip on half the images, flip averaging",
)

# Model v2, shipped: half default's widths with a 1x1 expansion to 256
# features before pooling (46 MMAC a pass, 93 MMAC or 186 MFLOP a face with
# the mirror pass, against default's 196 / 393), trained on both UTKFace
# folders plus CelebA-HQ for gender, fewer epochs over 3.6 times the images.
# The mirror pass stays: without it the gender of a face pasted into a photo
# agreed with its crop's 93.3% of the time, under the 95% goal (96.2% with it).
V2 = replace(
    DEFAULT, name="v2", build=lambda: nets.CompactNet(3, (16, 32, 64, 128), head=256),
    epochs=30, celebahq=True,
    notes="compact CNN 16-32-64-128 with a 1x1 expansion to 256, age distribution head, augmentation "
          "with a 16-60 px round trip on half the images, flip averaging; UTKFace (both folders) and "
          "CelebA-HQ for gender",
)

# Model v3: v2's net, every source framed by the Go crop (UTKFace chips
# through the padded retry, AAF portraits and CelebA-HQ heads through the
# detector), AAF's older and East Asian faces added, each epoch balanced
# over sources and age buckets, and the degradations of scans and web photos.
V3 = replace(
    V2, name="v3", celebahq=False, crops=("utkface", "utkface-more", "aaf", "celebahq"),
    balance=0.5, robust=True, recalibrate="augmented",
    notes="compact CNN 16-32-64-128 with a 1x1 expansion to 256, age distribution head, augmentation "
          "with a 16-60 px round trip on half the images, colour, sepia, blur and JPEG, flip averaging; "
          "UTKFace (both folders), AAF and CelebA-HQ (gender), all cropped by the Go aligner, "
          "balanced over sources and age buckets",
)

PRESETS = {
    # The reference, exactly: gray 360x360 in [-1,1], 4 conv blocks, Dense 512,
    # L1 age + BCE gender, Adam at 1e-4, no augmentation.
    "seed": Preset(
        name="seed", size=360, gray=True, build=lambda: nets.SeedNet(1, 360),
        epochs=20, batch=32, lr=1e-4, optimizer="adam", schedule="constant",
        notes="reference architecture and preprocessing",
    ),
    "default": DEFAULT,
    "v2": V2,
    "v3": V3,
    # The teacher for v2: default's net and flip averaging on v2's data, at
    # four times the cost per face; it is never shipped.
    "v2-teacher": replace(
        DEFAULT, name="v2-teacher", epochs=15, celebahq=True,
        notes="compact CNN 24-48-96-192, age distribution head, augmentation with a 16-60 px round trip "
              "on half the images, flip averaging; UTKFace (both folders) and CelebA-HQ for gender",
    ),
    # v2 taught by v2-teacher: half of its loss is matching the teacher's age
    # distribution and gender probability, which also gives CelebA-HQ's
    # faces an age target.
    "v2-distill": replace(V2, name="v2-distill", teacher="v2-teacher",
                          notes=V2.notes + "; distilled from v2-teacher"),
    # Half v2's widths on 56 px crops, with the mirror pass: 20 MMAC a pass,
    # 81 MFLOP a face with both, under the 100 MFLOP budget, for 0.2 years
    # and 1 point of gender accuracy (training/README.md).
    "v2-tiny": replace(
        V2, name="v2-tiny", size=56, build=lambda: nets.CompactNet(3, (12, 24, 48, 96), head=192),
        notes="compact CNN 12-24-48-96 with a 1x1 expansion to 192 on 56 px, age distribution head, "
              "augmentation with a 16-60 px round trip on half the images, flip averaging; "
              "UTKFace (both folders) and CelebA-HQ for gender",
    ),
    # v2 with children shown three times an epoch: v2's training images are
    # 8% children against v1's 30%, and its 0-9 gender fell from 74% to 70%.
    "v2-kids": replace(V2, name="v2-kids", child_repeat=3,
                       notes=V2.notes + "; children (under 10) three times an epoch"),
    # v2 without CelebA-HQ: what the gender-only faces buy.
    "v2-utk": replace(V2, name="v2-utk", celebahq=False, notes=V2.notes.replace(" and CelebA-HQ for gender", "")),
    # The default without the low-resolution round trip: the model shipped
    # before it, best on UTKFace's own crops, worst on small faces.
    "plain": PLAIN,
    # The plain recipe with the gender loss weighted 3x and 75 epochs: it
    # memorised gender without a validation gain (training/README.md).
    "gender3": replace(
        PLAIN, name="gender3", epochs=75, gender_weight=3.0,
        notes="compact CNN 24-48-96-192, age distribution head, gender loss x3, augmentation, flip averaging",
    ),
    # The plain recipe's trunk on a 128 px crop through a 5x5 stride-2 stem: finer
    # detail (hair, ears, jewellery) for 5% more MACs. The most accurate so
    # far, but over the 5 ms per face budget in ONNX Runtime (training/README.md).
    "hires": replace(
        PLAIN, name="hires", size=128, build=lambda: nets.CompactNet(3, stem_stride=2),
        notes="compact CNN 24-48-96-192 with a 5x5 stride-2 stem on 128 px, age distribution head, "
              "augmentation, flip averaging",
    ),
    # Ours plus far stronger regularisation: AdamW's decoupled weight decay
    # at 0.05 (5e-4 is next to none) and random erasing on half the images.
    # No gain over default (training/README.md).
    "regular": replace(
        DEFAULT, name="regular", weight_decay=0.05, erase=0.5,
        notes="as default, plus random erasing and weight decay 0.05",
    ),
    # Half the width and no flip averaging: a fifth of the cost per face, for
    # 0.6 years of MAE and 2 points of gender accuracy.
    "small": replace(
        PLAIN, name="small", build=lambda: nets.CompactNet(3, (16, 32, 64, 128)), flip_average=False,
        notes="compact CNN 16-32-64-128, age distribution head, augmentation",
    ),
}

def get(name):
    if name not in PRESETS:
        raise TrainingError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]
