"""Training presets: everything that defines a model, in one place."""

from dataclasses import dataclass, field

import nets


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
    flip_average: bool = False
    notes: str = ""
    extra: dict = field(default_factory=dict)


PRESETS = {
    # The reference, exactly: gray 360x360 in [-1,1], 4 conv blocks, Dense 512,
    # L1 age + BCE gender, Adam at 1e-4, no augmentation.
    "seed": Preset(
        name="seed", size=360, gray=True, build=lambda: nets.SeedNet(1, 360),
        epochs=20, batch=32, lr=1e-4, optimizer="adam", schedule="constant",
        notes="reference architecture and preprocessing",
    ),
    # Ours: RGB 64x64, a compact CNN (16-32-64-128 channels, 44 MMAC) with an
    # age distribution head, augmentation and AdamW with one-cycle. Chosen for
    # accuracy per CPU millisecond: see the table in training/README.md.
    "default": Preset(
        name="default", size=64, gray=False, build=lambda: nets.CompactNet(3, (16, 32, 64, 128)),
        epochs=60, batch=64, lr=3e-3, optimizer="adamw", schedule="onecycle",
        weight_decay=5e-4, augment=True, flip_average=False,
        notes="compact CNN 16-32-64-128, age distribution head, augmentation",
    ),
    # The first version of default: twice the width and flip averaging in the
    # graph, 4.5x the cost per face for 0.1-0.3 years.
    "wide24": Preset(
        name="wide24", size=64, gray=False, build=lambda: nets.CompactNet(3),
        epochs=60, batch=64, lr=3e-3, optimizer="adamw", schedule="onecycle",
        weight_decay=5e-4, augment=True, flip_average=True,
        notes="compact CNN 24-48-96-192, age distribution head, augmentation, flip averaging",
    ),
}


def get(name):
    if name not in PRESETS:
        raise SystemExit(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]
