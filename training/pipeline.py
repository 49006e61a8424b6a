"""The train / evaluate / export / fixture commands."""

import inspect
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

import data
import nets
import presets


def setup_torch(args):
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    if args.device:
        return torch.device(args.device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def run_dir(args, preset):
    name = preset.name + (f"-limit{args.limit}" if args.limit else "")
    if args.train_percent < 100:
        name += f"-train{args.train_percent}"
    d = os.path.join(args.runs, name)
    os.makedirs(d, exist_ok=True)
    return d


def load_split(args, preset):
    """The training, calibration and validation images with their labels, as
    (samples, uint8 tensor) pairs. Training images that nearly duplicate a
    held-out one (UTKFace has copies under other names) are dropped, so no
    copy of a validation face is trained on."""
    split = data.scan(args.data, args.limit, args.train_percent)
    t0 = time.time()
    xt = data.load_cached(split.train, preset.size, preset.gray, args.cache)
    xc = data.load_cached(split.calib, preset.size, preset.gray, args.cache)
    xv = data.load_cached(split.val, preset.size, preset.gray, args.cache)
    drop = set(data.near_duplicates(np.concatenate([xc, xv]), xt))
    if drop:
        keep = [i for i in range(len(split.train)) if i not in drop]
        split.train, xt = [split.train[i] for i in keep], xt[keep]
    if preset.celebahq:
        celeb = data.celebahq_samples(args.celebahq, args.train_percent)
        if args.limit:
            celeb = celeb[:args.limit]
        split.train += celeb
        xt = np.concatenate([xt, data.load_cached(celeb, preset.size, preset.gray, args.cache)])
    print(f"data: {len(split.train)} train ({len(drop)} near-duplicates of held-out "
          f"images dropped), {len(split.calib)} calibration, {len(split.val)} validation, "
          f"{len(split.skipped)} names skipped (not AGE_GENDER_RACE_*.jpg); images ready in {time.time() - t0:.1f}s",
          flush=True)
    return ((split.train, torch.from_numpy(xt)), (split.calib, torch.from_numpy(xc)),
            (split.val, torch.from_numpy(xv)), split.skipped)


def normalize(x_uint8):
    """[0,255] -> [-1,1], the contract stated in the model metadata."""
    return x_uint8.float() / 127.5 - 1.0


def augment(x, gen, erase=0.0, lowres=0.0):
    """Flip, shift, scale, small rotation and colour jitter on a float batch in
    [0,255]; with probability `erase`, one random rectangle of each image is
    filled with noise (random erasing); with probability `lowres`, the image
    is brought down to fewer pixels and back (see low_resolution)."""
    n = x.shape[0]
    dev = x.device
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip.to(dev).view(n, 1, 1, 1), x.flip(3), x)
    scale = torch.empty(n).uniform_(0.88, 1.12, generator=gen)
    angle = torch.empty(n).uniform_(-12, 12, generator=gen) * math.pi / 180
    shift = torch.empty(n, 2).uniform_(-0.08, 0.08, generator=gen)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(dev), list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if lowres > 0:
        x = low_resolution(x, gen, lowres)
    if x.shape[1] == 3:
        gray = x.mean(dim=1, keepdim=True)
        sat = torch.empty(n, 1, 1, 1).uniform_(0.6, 1.4, generator=gen).to(dev)
        x = gray + (x - gray) * sat
        gray_p = (torch.rand(n, generator=gen) < 0.1).to(dev).view(n, 1, 1, 1)
        x = torch.where(gray_p, x.mean(dim=1, keepdim=True).expand_as(x), x)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    contrast = torch.empty(n, 1, 1, 1).uniform_(0.7, 1.3, generator=gen).to(dev)
    bright = torch.empty(n, 1, 1, 1).uniform_(-25, 25, generator=gen).to(dev)
    x = (x - mean) * contrast + mean + bright
    if erase > 0:
        x = random_erase(x, gen, erase)
    return x.clamp(0, 255)


def low_resolution(x, gen, p):
    """In a fraction p of the batch, resizes each image down to 16-60 px
    (antialiased) and back up (bilinear): what a face 16-60 px wide in a photo
    looks like once Go crops it and scales it to the input size."""
    n, _, h, w = x.shape
    chosen = torch.rand(n, generator=gen) < p
    sides = torch.randint(4, 16, (n,), generator=gen) * 4
    out = x.clone()
    for side in sides[chosen].unique().tolist():
        idx = (chosen & (sides == side)).nonzero().flatten().to(x.device)
        out[idx] = round_trip(x[idx], side)
    return out


def round_trip(x, side):
    """Resizes a float batch down to side x side (antialiased) and back up
    (bilinear), as Go does with a face that is side px wide in a photo."""
    h, w = x.shape[-2:]
    if side >= min(h, w):
        return x
    small = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
    return F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)


def random_erase(x, gen, p):
    """Covers a rectangle of 2-25% of the image (aspect 1:3 to 3:1) with
    uniform noise in a fraction p of the batch, so that no single region
    (hair, one eye) can carry the answer alone."""
    n, _, h, w = x.shape
    area = torch.empty(n).uniform_(0.02, 0.25, generator=gen)
    aspect = torch.exp(torch.empty(n).uniform_(math.log(1 / 3), math.log(3), generator=gen))
    eh = (area * aspect).sqrt().clamp(max=1.0)
    ew = (area / aspect).sqrt().clamp(max=1.0)
    y0 = torch.rand(n, generator=gen) * (1 - eh)
    x0 = torch.rand(n, generator=gen) * (1 - ew)
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w
    inside_y = (ys.view(1, h) >= y0.view(n, 1)) & (ys.view(1, h) < (y0 + eh).view(n, 1))
    inside_x = (xs.view(1, w) >= x0.view(n, 1)) & (xs.view(1, w) < (x0 + ew).view(n, 1))
    chosen = (torch.rand(n, generator=gen) < p).view(n, 1, 1)
    mask = (inside_y.view(n, h, 1) & inside_x.view(n, 1, w) & chosen).unsqueeze(1).to(x.device)
    noise = (torch.rand(x.shape, generator=gen) * 255).to(x.device)
    return torch.where(mask, noise, x)


def age_targets(age, n_bins, sigma=2.0):
    """Soft labels: a Gaussian over the age bins centred on the true age."""
    bins = torch.arange(n_bins, dtype=torch.float32, device=age.device)
    a = age.clamp(0, n_bins - 1).unsqueeze(1)
    w = torch.exp(-0.5 * ((bins - a) / sigma) ** 2)
    return w / w.sum(dim=1, keepdim=True)


def loss_fn(net, out, age, female, gender_weight=1.0):
    """The age loss covers the samples whose age is known (CelebA-HQ's are
    not: data.UNKNOWN), the gender loss every sample."""
    age_out, g_logit = out
    g_loss = F.binary_cross_entropy_with_logits(g_logit, female)
    known = age >= 0
    if not bool(known.any()):
        return gender_weight * g_loss, torch.zeros((), device=g_loss.device), g_loss
    age_out, age = age_out[known], age[known]
    if net.age_head == "distribution":
        logp = F.log_softmax(age_out, dim=1)
        ce = -(age_targets(age, age_out.shape[1]) * logp).sum(dim=1).mean()
        expect = (logp.exp() * net.ages).sum(dim=1)
        a_loss = ce + 0.05 * F.l1_loss(expect, age)
    else:
        a_loss = F.l1_loss(age_out, age)
    return a_loss + gender_weight * g_loss, a_loss, g_loss


def make_optimizer(preset, net, steps_total):
    if preset.optimizer == "adamw":
        opt = torch.optim.AdamW(net.parameters(), lr=preset.lr, weight_decay=preset.weight_decay)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=preset.lr, weight_decay=preset.weight_decay)
    if preset.schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=preset.lr, total_steps=max(steps_total, 1),
                                                    pct_start=0.2)
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    return opt, sched


@torch.no_grad()
def predict_all(net, x_uint8, device, flip_average, batch=256):
    """Returns (age, female_probability) for every image, as the ONNX file computes them."""
    model = nets.Exported(net, flip_average, x_uint8.shape[-1]).to(device).eval()
    ages, probs = [], []
    for i in range(0, len(x_uint8), batch):
        xb = normalize(x_uint8[i:i + batch].to(device))
        a, p = model(xb)
        ages.append(a.cpu())
        probs.append(p.cpu())
    if not ages:
        return torch.zeros(0), torch.zeros(0)
    return torch.cat(ages), torch.cat(probs)


def calibration_error(female_prob, female, bins=10):
    """Expected calibration error of the predicted gender: the gap between
    confidence (the probability of the predicted class) and accuracy, over
    10 equal-width confidence bins, weighted by their share of the faces."""
    conf = torch.maximum(female_prob, 1 - female_prob)
    correct = ((female_prob >= 0.5).float() == female).float()
    edges = torch.linspace(0.5, 1.0, bins + 1)
    ece = 0.0
    for i in range(bins):
        hi = edges[i + 1] if i < bins - 1 else 1.01
        m = (conf >= edges[i]) & (conf < hi)
        if m.any():
            ece += float(m.float().mean()) * abs(float(correct[m].mean()) - float(conf[m].mean()))
    return ece


ADULT = 20  # the race spread is taken over faces this old or older


def metrics(samples, age_pred, female_prob):
    age, female, race = data.labels(samples)
    err = age_pred - age
    correct = ((female_prob >= 0.5).float() == female).float()

    def summary(mask):
        n = int(mask.sum())
        if n == 0:
            return {"n": 0}
        e = err[mask]
        return {
            "n": n,
            "age_mae": round(float(e.abs().mean()), 3),
            "age_bias": round(float(e.mean()), 3),
            "within_5": round(float((e.abs() <= 5).float().mean()), 4),
            "gender_accuracy": round(float(correct[mask].mean()), 4),
            "gender_ece": round(calibration_error(female_prob[mask], female[mask]), 4),
        }

    all_mask = torch.ones_like(age, dtype=torch.bool)
    buckets = torch.tensor([data.age_bucket(int(a)) for a in age])
    adult = {r: summary((race == i) & (age >= ADULT)) for i, r in enumerate(data.RACES)}
    maes = [v["age_mae"] for v in adult.values() if v["n"]]
    folders = sorted({os.path.dirname(s.path) for s in samples})
    in_folder = lambda f: torch.tensor([os.path.dirname(s.path) == f for s in samples])  # noqa: E731
    return {
        "overall": summary(all_mask),
        "per_age_bucket": {b: summary(buckets == i) for i, b in enumerate(data.BUCKETS)},
        "per_race": {r: summary(race == i) for i, r in enumerate(data.RACES)},
        "adult_per_race": adult,
        "adult_race_mae_spread": round(max(maes) - min(maes), 3) if maes else None,
        "adult_min_race_gender": min((v["gender_accuracy"] for v in adult.values() if v["n"]), default=None),
        "per_folder": {os.path.basename(f): summary(in_folder(f)) for f in folders} if len(folders) > 1 else {},
    }


def headline(m):
    """The figures the model issue judges, in one line of JSON."""
    o, b = m["overall"], m["per_age_bucket"]
    return {"mae": o.get("age_mae"), "gender": o.get("gender_accuracy"), "ece": o.get("gender_ece"),
            "gender_0_9": b["0-9"].get("gender_accuracy"), "mae_40_59": b["40-59"].get("age_mae"),
            "adult_race_mae_spread": m["adult_race_mae_spread"],
            "adult_min_race_gender": m["adult_min_race_gender"]}


@torch.no_grad()
def gender_logits(net, x_uint8, device, batch=256):
    """Raw gender logits (before the temperature) of every image."""
    out = []
    for i in range(0, len(x_uint8), batch):
        out.append(net(normalize(x_uint8[i:i + batch].to(device)))[1].cpu())
    return torch.cat(out) if out else torch.zeros(0)


def fit_temperature(net, x_uint8, female, device):
    """The temperature T that makes sigmoid(logit / T) best predict the labels
    (lowest log loss) on held-out images: the calibration split, which is
    neither trained nor validated on. One number, so it cannot reorder the
    faces or change accuracy; it only stretches or shrinks confidence."""
    net.eval()
    logits = gender_logits(net, x_uint8, device)
    best_t, best = 1.0, float("inf")
    for t in torch.exp(torch.linspace(math.log(0.25), math.log(4.0), 281)).tolist():
        nll = float(F.binary_cross_entropy_with_logits(logits / t, female))
        if nll < best:
            best_t, best = t, nll
    return best_t


def checkpoint_path(d):
    return os.path.join(d, "last.pt")


def load_checkpoint(path, device):
    """torch.load of our own checkpoint. PyTorch 2.6 made weights_only=True the
    default, which refuses the optimizer and RNG state saved here; these files
    are written by this pipeline, so full unpickling is asked for explicitly."""
    if "weights_only" in inspect.signature(torch.load).parameters:
        return torch.load(path, map_location=device, weights_only=False)
    return torch.load(path, map_location=device)


def train(args):
    preset = presets.get(args.preset)
    device = setup_torch(args)
    torch.manual_seed(args.seed)
    d = run_dir(args, preset)
    (train_s, xt), (calib_s, xc), (val_s, xv), _ = load_split(args, preset)
    age_t, female_t, _ = data.labels(train_s)

    # channels_last made a training step of the compact nets 1.4-1.7x faster on CPU.
    net = preset.build().to(device).to(memory_format=torch.channels_last)
    epochs = args.epochs or preset.epochs
    steps_per_epoch = max(1, math.ceil(len(train_s) / preset.batch))
    opt, sched = make_optimizer(preset, net, epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(args.seed)
    state = {"epoch": 0, "seconds": 0.0, "history": []}
    ck = checkpoint_path(d)
    if os.path.exists(ck) and not args.fresh:
        saved = load_checkpoint(ck, device)
        net.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        gen.set_state(saved["generator"])
        state = saved["state"]
        if "gender_temperature" in state:
            net.temperature.fill_(state["gender_temperature"])
        print(f"resumed {ck} at epoch {state['epoch']}", flush=True)

    print(f"preset {preset.name}: {nets.count_params(net):,} parameters, "
          f"{nets.count_macs(net.cpu(), (1 if preset.gray else 3, preset.size, preset.size)) / 1e6:.1f} MMAC/image, "
          f"{epochs} epochs x {steps_per_epoch} steps on {device}", flush=True)
    net.to(device)
    step = 0
    while state["epoch"] < epochs:
        t0 = time.time()
        net.train()
        perm = torch.randperm(len(train_s), generator=gen)
        tot = tot_a = tot_g = 0.0
        for i in range(0, len(perm), preset.batch):
            idx = perm[i:i + preset.batch]
            xb = xt[idx].to(device).float()
            if preset.augment:
                xb = augment(xb, gen, preset.erase, preset.lowres)
            xb = (xb / 127.5 - 1.0).contiguous(memory_format=torch.channels_last)
            loss, la, lg = loss_fn(net, net(xb), age_t[idx].to(device), female_t[idx].to(device),
                                   preset.gender_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(idx)
            tot_a += float(la) * len(idx)
            tot_g += float(lg) * len(idx)
            step += 1
            if args.max_steps and step >= args.max_steps:
                break
        state["epoch"] += 1
        state["seconds"] += time.time() - t0
        net.eval()
        ap, fp = predict_all(net, xv, device, preset.flip_average)
        m = metrics(val_s, ap, fp)["overall"]
        n = max(1, min(len(perm), step * preset.batch))
        rec = {"epoch": state["epoch"], "loss": round(tot / n, 4), "age_loss": round(tot_a / n, 4),
               "gender_loss": round(tot_g / n, 4), "val_mae": m.get("age_mae"),
               "val_gender": m.get("gender_accuracy"), "seconds": round(state["seconds"], 1)}
        state["history"].append(rec)
        print(json.dumps(rec), flush=True)
        save_checkpoint(ck, net, opt, sched, gen, state, preset)
        if args.max_steps and step >= args.max_steps:
            break
    if state["epoch"] >= epochs and not state.get("batchnorm_recalibrated"):
        recalibrate_batchnorm(net, xt, device)
        ap, fp = predict_all(net, xv, device, preset.flip_average)
        m = metrics(val_s, ap, fp)["overall"]
        state["batchnorm_recalibrated"] = True
        print(json.dumps({"batchnorm": "recalibrated on the un-augmented training images",
                          "val_mae": m.get("age_mae"), "val_gender": m.get("gender_accuracy"),
                          "val_ece": m.get("gender_ece")}), flush=True)
        save_checkpoint(ck, net, opt, sched, gen, state, preset)
    if state["epoch"] >= epochs and "gender_temperature" not in state and hasattr(net, "temperature") and len(calib_s):
        t = fit_temperature(net, xc, data.labels(calib_s)[1], device)
        net.temperature.fill_(t)
        state["gender_temperature"] = t
        ap, fp = predict_all(net, xv, device, preset.flip_average)
        m = metrics(val_s, ap, fp)["overall"]
        print(json.dumps({"gender_temperature": round(t, 4), "fitted_on": f"{len(calib_s)} calibration images",
                          "val_gender": m.get("gender_accuracy"), "val_ece": m.get("gender_ece")}), flush=True)
        save_checkpoint(ck, net, opt, sched, gen, state, preset)
    print(f"trained {state['epoch']} epochs in {state['seconds'] / 60:.1f} min; checkpoint {ck}", flush=True)
    return 0


def save_checkpoint(ck, net, opt, sched, gen, state, preset):
    tmp = ck + ".tmp"
    torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "generator": gen.get_state(), "state": state, "preset": preset.name}, tmp)
    os.replace(tmp, ck)


@torch.no_grad()
def recalibrate_batchnorm(net, x_uint8, device, batch=256):
    """Replaces each batch-norm layer's running mean and variance with their
    plain average over the un-augmented training images and their mirrors
    (training flipped half its images). Training leaves a moving average
    over augmented batches (colour, blur, erasing), which is not what the
    model meets at inference: on `plain` this alone took the validation MAE
    from 4.28 to 4.15 years (training/README.md has every preset). No
    validation image is used."""
    norms = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    net.eval()
    momenta = []
    for m in norms:
        momenta.append(m.momentum)
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below
        m.train()
    for i in range(0, len(x_uint8), batch):
        xb = normalize(x_uint8[i:i + batch].to(device))
        net(xb)
        net(xb.flip(3))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    net.eval()


def load_trained(args, preset, device, untrained=False):
    net = preset.build()
    state = {"epoch": 0, "seconds": 0.0, "history": []}
    if not untrained:
        ck = checkpoint_path(run_dir(args, preset))
        if not os.path.exists(ck):
            raise SystemExit(f"no checkpoint at {ck}: run 'train --preset {preset.name}' first")
        saved = load_checkpoint(ck, "cpu")
        net.load_state_dict(saved["model"])
        state = saved["state"]
        if "gender_temperature" in state:
            net.temperature.fill_(state["gender_temperature"])
    return net.to(device).eval(), state


def evaluate(args):
    preset = presets.get(args.preset)
    device = setup_torch(args)
    _, _, (val_s, xv), skipped = load_split(args, preset)
    net, state = load_trained(args, preset, device)
    flip = preset.flip_average if args.flip_average == "preset" else args.flip_average == "on"
    if args.face_px:
        xv = round_trip(xv.float(), args.face_px).round().clamp(0, 255).to(torch.uint8)
    ap, fp = predict_all(net, xv, device, flip)
    if args.ensemble_with:
        # What averaging two trained presets would buy, without exporting it.
        other = presets.get(args.ensemble_with)
        if (other.size, other.gray) != (preset.size, preset.gray):
            raise SystemExit(f"--ensemble-with {other.name}: its input differs from {preset.name}'s")
        net2, _ = load_trained(args, other, device)
        ap2, fp2 = predict_all(net2, xv, device, flip)
        m = metrics(val_s, (ap + ap2) / 2, (fp + fp2) / 2)
        print(json.dumps({"overall": m["overall"], "flip_average": flip, "ensemble": [preset.name, other.name]}))
        return 0
    m = metrics(val_s, ap, fp)
    m["headline"] = headline(m)
    m["flip_average"] = flip
    m["face_px"] = args.face_px or preset.size
    m["split"] = f"sha1(file name)[:8] mod 100 < {data.VAL_PERCENT} over {', '.join(args.data)}"
    m["gender_temperature"] = state.get("gender_temperature")
    m["skipped_names"] = len(skipped)
    m["epochs"] = state["epoch"]
    m["train_minutes"] = round(state["seconds"] / 60, 1)
    name = "metrics" + ("" if args.flip_average == "preset" else f"-flip-{args.flip_average}")
    name += (f"-{args.face_px}px" if args.face_px else "") + ".json"
    out = os.path.join(run_dir(args, preset), name)
    with open(out, "w") as f:
        json.dump(m, f, indent=2)
    print(json.dumps({"overall": m["overall"], "headline": m["headline"], "flip_average": flip,
                      "face_px": m["face_px"]}))
    print(f"wrote {out} (per age bucket and race too)")
    return 0


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
    setup_torch(args)
    net, state = load_trained(args, preset, device, args.untrained)
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
    metrics_path = os.path.join(run_dir(args, preset), "metrics.json")
    val_metrics = None
    if not args.untrained and os.path.exists(metrics_path):
        with open(metrics_path) as f:
            val_metrics = json.load(f)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    meta = contract(preset, net, state, framing, val_metrics, git_commit(root), args)
    m = onnx.load(tmp)
    onnx.checker.check_model(m)
    del m.metadata_props[:]
    entry = m.metadata_props.add()
    entry.key, entry.value = "agegender", json.dumps(meta, indent=1)
    m.producer_name = "agegender-training"
    onnx.save(m, tmp)
    os.replace(tmp, args.out)
    print(f"exported {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB)")
    return 0


def contract(preset, net, state, framing, val_metrics, commit, args):
    """The preprocessing and output contract that the Go side reads."""
    ch = 1 if preset.gray else 3
    cmd = f"make train export PRESET={preset.name}"
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
            "data": "UTKFace aligned & cropped (Zhang, Song, Qi, CVPR 2017), folders "
                    + ", ".join(os.path.basename(os.path.normpath(d)) for d in args.data)
                    + ("; CelebA-HQ (Lee et al., CVPR 2020) for gender, cropped by training/facecrop"
                       if preset.celebahq else ""),
            "license": "UTKFace" + (" and CelebA-HQ are" if preset.celebahq else " is")
                       + " for non-commercial research use only; image copyrights stay with their owners",
            "split": f"validation = sha1(file name)[:8] mod 100 < {data.VAL_PERCENT}; calibration = "
                     f"{data.VAL_PERCENT} to {data.CALIB_END - 1}; training images that nearly duplicate "
                     "either are dropped",
            "gender_temperature": state.get("gender_temperature"),
            "epochs": state["epoch"],
            "minutes": round(state["seconds"] / 60, 1),
            "command": cmd,
            "git_commit": commit,
            "untrained": bool(getattr(args, "untrained", False)),
        },
        "metrics": val_metrics,
    }


def fixture(args):
    """Writes synthetic images, their preprocessed tensors and the PyTorch
    outputs, so the Go tests can check pixel and output parity with ORT."""
    from PIL import Image, ImageDraw

    preset = presets.get(args.preset)
    setup_torch(args)
    device = torch.device("cpu")
    net, _ = load_trained(args, preset, device)
    model = nets.Exported(net, preset.flip_average, preset.size).eval()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.RandomState(7)
    cases = []
    for i, (w, h) in enumerate([(200, 200), (173, 241), (97, 64), (320, 180)]):
        im = Image.new("RGB", (w, h), tuple(int(v) for v in rng.randint(0, 256, 3)))
        dr = ImageDraw.Draw(im)
        for _ in range(12):
            x0, y0 = rng.randint(0, w), rng.randint(0, h)
            x1, y1 = x0 + rng.randint(4, w // 2 + 5), y0 + rng.randint(4, h // 2 + 5)
            col = tuple(int(v) for v in rng.randint(0, 256, 3))
            (dr.ellipse if rng.rand() < 0.5 else dr.rectangle)([x0, y0, x1, y1], fill=col)
        name = f"synthetic_{i}.png"
        im.save(os.path.join(args.out, name))
        pix = data.resize_uint8(np.asarray(im), preset.size, preset.gray)
        x = normalize(torch.from_numpy(pix).unsqueeze(0))
        with torch.no_grad():
            age, female = model(x)
        cases.append({"image": name, "pixels": [int(v) for v in pix.flatten()],
                      "age": float(age[0]), "female_probability": float(female[0])})
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump({"preset": preset.name, "shape": list(x.shape[1:]),
                   "normalize": "x = pixel / 127.5 - 1", "cases": cases}, f)
    print(f"wrote {len(cases)} parity cases to {args.out}")
    return 0


def card(args):
    """Prints the validation metrics of a preset as Markdown tables, for the
    model card (models/README.md)."""
    preset = presets.get(args.preset)
    path = os.path.join(run_dir(args, preset), "metrics.json")
    if not os.path.exists(path):
        raise SystemExit(f"no {path}: run 'evaluate --preset {preset.name}' first")
    with open(path) as f:
        m = json.load(f)
    print("| group | n | age MAE | bias | within 5 y | gender accuracy |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = [("all", m["overall"])] + list(m["per_age_bucket"].items()) + list(m["per_race"].items())
    for name, r in rows:
        if r.get("n"):
            print(f"| {name} | {r['n']} | {r['age_mae']:.2f} | {r['age_bias']:+.2f} | "
                  f"{100 * r['within_5']:.1f}% | {100 * r['gender_accuracy']:.1f}% |")
    print(f"\n{m['epochs']} epochs, {m['train_minutes']} min; split: {m['split']}")
    return 0


def run(args):
    return {"train": train, "evaluate": evaluate, "export": export, "fixture": fixture,
            "card": card}[args.cmd](args)
