"""Model v4's commands: the crop study of the teacher (v4-study), the
fine-tuning of a preset (v4-train) and its export (v4-export). See
training/README.md, "Model v4"."""

import json
import os
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch

import data
import faceres
import v4data
import v4train
from errors import TrainingError
from pipeline import setup_torch
from scoring import by_source, headline


@dataclass(frozen=True)
class V4Preset:
    name: str
    size: int  # input side in pixels
    margin: float  # crop side around the template (1: the template's)
    start: int  # first trunk layer trained: the stem and blocks before it are frozen
    epochs: int = 5
    batch: int = 128
    lr: float = 2e-4
    head_lr_factor: float = 5.0
    balance: float = 0.5
    teacher_weight: float = 0.5
    group_weight: float = 0.2
    gender_weight: float = 1.0
    views: int = 2  # the clean crop and this many - 1 augmented views
    sources: tuple = v4data.SOURCES
    # The preset whose answers this one also learns from, with this share of the loss.
    distill_from: str = ""
    distill: float = 0.0
    level: float = 0.8  # the central interval calibrated on the calibration split
    seed: int = 1
    group_bounds: tuple = tuple(v4data.AGE_GROUPS.values())
    notes: str = field(default="", compare=False)


# The crop study (training/README.md) chose the template's own framing and
# 160 px: faceres-deep's own heads did best at margin 1.0 (1.15, 1.3 and 0.9
# were worse on every source), and 160 px beat 128 px by 1.2 years on AAF
# at 5.5-6.2 ms a face on one thread of ONNX Runtime (128 px: 3.5 ms).
ACCURATE = V4Preset(
    name="v4", size=160, margin=1.0, start=11,
    notes="faceres-deep (MobileNetV1, VGGFace2 + IMDB-WIKI) at 160 px, blocks 11-13 and heads fine-tuned")
# At most 200 MFLOP a face: 88 px is the largest input under it.
FAST = replace(ACCURATE, name="v4-fast", size=88, distill_from="v4", distill=0.5,
               notes="faceres-deep at 88 px, blocks 11-13 and heads fine-tuned, distilled from v4")
PRESETS = {p.name: p for p in (ACCURATE, FAST)}


def get(name, overrides):
    if name not in PRESETS:
        raise TrainingError(f"unknown v4 preset {name!r}; known: {', '.join(PRESETS)}")
    return replace(PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})


def teacher_net(args):
    path = os.path.join(args.teacher, "faceres-deep.json")
    if not os.path.exists(path):
        raise TrainingError(f"{path} not found: fetch it first (make teacher)")
    return faceres.load(path)


def study(args):
    """The teacher's own heads on the validation faces of each source, per
    crop margin and input size: which framing to fine-tune at."""
    setup_torch(args.threads)
    net = teacher_net(args)
    _, _, val = v4data.load_splits(args.crops, args.wider_labels, ("utkface", "utkface-more", "aaf"))
    rows = []
    for size in args.sizes:
        for margin in args.margins:
            t0 = time.time()
            x = v4data.faces(val.samples, margin, size, args.cache)
            with torch.no_grad():
                out = [net(faceres.to_input(torch.from_numpy(x[i:i + 128]))) for i in range(0, len(x), 128)]
            age = faceres.expected_age(torch.cat([o[0] for o in out]))
            female = 1 - torch.sigmoid(torch.cat([o[1] for o in out]))
            m = by_source(val.samples, age, female)
            row = {"size": size, "margin": margin, "seconds": round(time.time() - t0, 1)}
            row.update({src: [v["overall"]["age_mae"], v["overall"]["gender_accuracy"]] for src, v in m.items()})
            rows.append(row)
            print(json.dumps(row), flush=True)
    return 0


def run_name(preset):
    """The preset's run folder name: an ablation (another frozen depth,
    fewer sources, other epochs) gets its own, never the shipped run's."""
    base = PRESETS[preset.name]
    name = preset.name
    if preset.start != base.start:
        name += f"-start{preset.start}"
    if preset.sources != base.sources:
        name += "-" + "+".join(preset.sources)
    if preset.epochs != base.epochs:
        name += f"-e{preset.epochs}"
    return name


def run_folder(args, preset):
    d = os.path.join(args.runs, run_name(preset))
    os.makedirs(d, exist_ok=True)
    return d


def train(args):
    preset = get(args.preset, {"epochs": args.epochs or None, "start": args.start,
                               "sources": tuple(args.sources) if args.sources else None})
    setup_torch(args.threads)
    torch.manual_seed(preset.seed)
    net = teacher_net(args)
    t0 = time.time()
    # Every source's faces are cached; an ablation without some trains on
    # the rest of the same cache.
    train_p, calib_p, val_p = v4data.load_splits(args.crops, args.wider_labels)
    rows = torch.tensor([i for i, s in enumerate(train_p.samples) if s.source in preset.sources])
    print(f"{run_name(preset)}: {len(rows)} train, {len(calib_p.samples)} calibration, "
          f"{len(val_p.samples)} validation faces", flush=True)
    views, held = cached_activations(args, preset, net, train_p, calib_p, val_p)
    print(f"activations ready in {(time.time() - t0) / 60:.1f} min", flush=True)
    targets = training_targets(args, preset, net, (train_p, calib_p, val_p), views[0])
    tail = v4train.Tail(net, preset.start)
    history = []

    def log(epoch, losses):
        rec = {"epoch": epoch, **losses, **score(tail, held["val"], val_p.samples)}
        rec["minutes"] = round((time.time() - t0) / 60, 1)
        history.append(rec)
        print(json.dumps(rec), flush=True)

    log(0, {})
    v4train.fit(tail, views, targets, (train_p.samples, rows), preset, log)
    result = calibrate(tail, held["calib"], calib_p.samples, preset)
    folder = run_folder(args, preset)
    torch.save({"tail": tail.state_dict(), "start": preset.start, "preset": preset.name, "history": history,
                **result}, os.path.join(folder, "tail.pt"))
    metrics = evaluate(tail, held["val"], val_p.samples, preset, result)
    metrics.update({"history": history, "minutes": round((time.time() - t0) / 60, 1)})
    with open(os.path.join(folder, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    print(f"{preset.name}: saved {folder}/tail.pt and metrics.json", flush=True)
    return 0


def cached_activations(args, preset, net, train_p, calib_p, val_p):
    """The frozen trunk's outputs: the training faces' views, and the
    calibration and validation faces as they are. Kept on disk per preset
    framing and frozen depth, so that an ablation reuses them."""
    def path_for(start):
        key = f"{preset.size}_{preset.margin}_{start}_{preset.views}_{len(train_p.samples)}"
        return os.path.join(args.cache, f"v4act_{key}.pt")

    path = path_for(preset.start)
    if os.path.exists(path):
        saved = torch.load(path)
        return saved["views"], saved["held"]
    for start in range(preset.start - 1, 0, -1):
        # A shallower cache of the same faces runs the blocks between once.
        if os.path.exists(path_for(start)):
            saved = torch.load(path_for(start))
            deeper = lambda a: deepen(net, a, start, preset.start)  # noqa: E731
            return [deeper(v) for v in saved["views"]], {k: deeper(v) for k, v in saved["held"].items()}
    held = {}
    for name, part in (("calib", calib_p), ("val", val_p)):
        held[name] = v4data.activations(net, v4data.faces(part.samples, preset.margin, preset.size, args.cache),
                                        preset.start)
    x = v4data.faces(train_p.samples, preset.margin, preset.size, args.cache)
    views = [v4data.activations(net, x, preset.start)]
    for v in range(1, preset.views):
        views.append(v4data.activations(net, x, preset.start, view="augmented", seed=v))
    torch.save({"views": views, "held": held}, path + ".tmp")
    os.replace(path + ".tmp", path)
    return views, held


@torch.no_grad()
def deepen(net, acts, start, stop, batch=256):
    """Activations at trunk layer start carried to layer stop."""
    layers = net.trunk[start:stop].eval()
    return torch.cat([layers(acts[i:i + batch].float()).half() for i in range(0, len(acts), batch)])


def training_targets(args, preset, net, parts, clean):
    """Per training face: its labels, the teacher's age distribution (for
    faces with no age), its age group and, when distilling, the accurate
    preset's age distribution and female probability."""
    train_p = parts[0]
    age, female, _ = data.labels(train_p.samples)
    teacher = v4train.Tail(net, preset.start, dropout=0.0)
    t_age, _ = v4train.predict(teacher, clean)
    targets = {"age": age, "female": female, "group": torch.tensor(train_p.groups),
               "teacher": torch.softmax(t_age, dim=1)}
    if preset.distill > 0:
        targets.update(distill_targets(args, preset, net, parts))
    return targets


def distill_targets(args, preset, net, parts):
    """The answers of the trained preset distill_from on the training faces,
    at its own framing (its calibrated temperatures applied), from its
    cached activations of the clean view."""
    src = PRESETS[preset.distill_from]
    tail, saved = v4train.load_tail(os.path.join(args.runs, src.name), net)
    views, _ = cached_activations(args, replace(src, start=saved["start"]), net, *parts)
    a, f = v4train.predict(tail, views[0])
    return {"soft_age": torch.softmax(a / saved["age_temperature"], dim=1),
            "soft_female": torch.sigmoid(f / saved["gender_temperature"])}


def score(tail, acts, samples):
    a, f = v4train.predict(tail, acts)
    m = by_source(samples, v4train.expected_age(a), torch.sigmoid(f))
    return {src: [v["overall"]["age_mae"], v["overall"]["gender_accuracy"]] for src, v in m.items()}


def calibrate(tail, acts, samples, preset):
    a, f = v4train.predict(tail, acts)
    age, female, _ = data.labels(samples)
    known = age >= 0
    t_age = v4train.fit_age_temperature(a[known], age[known], preset.level)
    t_gender = v4train.fit_gender_temperature(f, female)
    print(f"calibrated on {len(samples)} faces: age temperature {t_age:.3f}, gender temperature {t_gender:.3f}",
          flush=True)
    return {"age_temperature": t_age, "gender_temperature": t_gender}


def evaluate(tail, acts, samples, preset, temps):
    """Validation metrics per source, with the interval's coverage and mean
    width per age bucket."""
    a, f = v4train.predict(tail, acts)
    age_pred = v4train.expected_age(a, temps["age_temperature"])
    female = torch.sigmoid(f / temps["gender_temperature"])
    out = {"preset": preset.name, "level": preset.level, **temps, "by_source": {}}
    for src, m in by_source(samples, age_pred, female).items():
        idx = [i for i, s in enumerate(samples) if s.source == src]
        m["headline"] = headline(m)
        m["interval"] = interval_report(a[idx], [samples[i] for i in idx], preset.level, temps["age_temperature"])
        out["by_source"][src] = m
        print(f"{src}: {json.dumps(m['headline'])} interval {json.dumps(m['interval']['overall'])}", flush=True)
    return out


def interval_report(age_logits, samples, level, temperature):
    age = torch.tensor([s.age for s in samples], dtype=torch.float32)
    buckets = np.array([data.age_bucket(int(x)) for x in age])
    rep = {}
    for name, mask in [("overall", np.ones(len(samples), bool))] + \
            [(b, buckets == i) for i, b in enumerate(data.BUCKETS)]:
        if mask.any():
            m = torch.from_numpy(mask)
            cov, width = v4train.coverage(age_logits[m], age[m], level, temperature)
            rep[name] = {"n": int(mask.sum()), "coverage": round(cov, 4), "width": round(width, 2)}
    return {"overall": rep.pop("overall"), "per_age_bucket": rep}


def export(args):
    import v4export

    preset = get(args.preset, {})
    setup_torch(args.threads)
    net, saved = v4export.build(args, preset, teacher_net(args))
    framing = None
    if os.path.exists(args.framing):
        with open(args.framing) as f:
            framing = json.load(f)
    metrics_path = os.path.join(args.runs, preset.name, "metrics.json")
    metrics = None
    if os.path.exists(metrics_path):
        with open(metrics_path) as f:
            metrics = json.load(f)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    meta = v4export.contract(preset, net, saved, framing, metrics, root)
    v4export.export(net, saved, preset, preset.size, args.out, meta)
    return 0


def fixture(args):
    """The Go parity fixture of a trained v4 preset (testdata/parity when
    it is the default preset's)."""
    import v4export
    from export import write_fixture

    preset = get(args.preset, {})
    setup_torch(args.threads)
    net, saved = v4export.build(args, preset, teacher_net(args))
    model = v4export.Exported(net, saved["age_temperature"], saved["gender_temperature"]).eval()
    write_fixture(args.out, preset.name, preset.size, False, model)
    return 0
