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
    # Weight of the gender loss against the age loss.
    gender_weight: float = 1.0
    # Start from the final weights of this preset's run instead of from scratch.
    init_from: str = ""
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
    # Ours: RGB 64x64, compact CNN, age distribution head, augmentation,
    # AdamW with one-cycle, flip averaging inside the exported graph.
    "default": Preset(
        name="default", size=64, gray=False, build=lambda: nets.CompactNet(3),
        epochs=60, batch=64, lr=3e-3, optimizer="adamw", schedule="onecycle",
        weight_decay=5e-4, augment=True, flip_average=True,
        notes="compact CNN, age distribution head, augmentation, flip averaging",
    ),
    # A second stage on top of "default": a short, low-lr cycle that weights
    # gender more, since the age loss dominates the sum during the main run.
    "default-ft": Preset(
        name="default-ft", size=64, gray=False, build=lambda: nets.CompactNet(3),
        epochs=12, batch=64, lr=6e-4, optimizer="adamw", schedule="onecycle",
        weight_decay=5e-4, gender_weight=3.0, init_from="default", augment=True, flip_average=True,
        notes="default, then 12 epochs at max lr 6e-4 with the gender loss weighted 3x",
    ),
}


def get(name):
    if name not in PRESETS:
        raise SystemExit(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]
