"""The train command, and what evaluate and export share with it: the split,
the run folder, checkpoints."""

import inspect
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import data
import nets
import presets
from augment import augment
from errors import TrainingError
from scoring import by_source, fit_temperature, metrics, normalize, predict_all


def setup_torch(threads, device=""):
    """Uses threads torch threads (0: every core) and returns the device:
    the one named, else CUDA when there is one."""
    torch.set_num_threads(threads or os.cpu_count() or 1)
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def run_dir(runs, preset, sources):
    """The run folder of preset under runs: smoke-test limits and training
    subsets get folders of their own."""
    name = preset.name + (f"-limit{sources.limit}" if sources.limit else "")
    if sources.train_percent < 100:
        name += f"-train{sources.train_percent}"
    d = os.path.join(runs, name)
    os.makedirs(d, exist_ok=True)
    return d


def load_split(preset, sources):
    """The training, calibration and validation images with their labels, as
    (samples, uint8 tensor) pairs. Training images that nearly duplicate a
    held-out one (UTKFace has copies under other names) are dropped, so no
    copy of a validation face is trained on."""
    if preset.crops:
        split = data.Split([], [], [], [])
        for name in preset.crops:
            part = data.crop_samples(sources.crops, name, sources.train_percent)
            split.train += part.train
            split.calib += part.calib
            split.val += part.val
        if sources.limit:
            held = max(1, sources.limit // 4)
            split.train, split.calib, split.val = split.train[:sources.limit], split.calib[:held], split.val[:held]
    else:
        split = data.scan(sources.data, sources.limit, sources.train_percent)
    t0 = time.time()
    # One read of each folder's cache serves all three splits.
    x = data.load_cached(split.train + split.calib + split.val, preset.size, preset.gray, sources.cache)
    nt, nc = len(split.train), len(split.calib)
    xt, xc, xv = x[:nt], x[nt:nt + nc], x[nt + nc:]
    drop = set(data.near_duplicates(np.concatenate([xc, xv]), xt))
    if drop:
        keep = [i for i in range(len(split.train)) if i not in drop]
        split.train, xt = [split.train[i] for i in keep], xt[keep]
    if preset.celebahq:
        celeb = data.celebahq_samples(sources.celebahq, sources.train_percent)
        if sources.limit:
            celeb = celeb[:sources.limit]
        split.train += celeb
        xt = np.concatenate([xt, data.load_cached(celeb, preset.size, preset.gray, sources.cache)])
    sources = sorted({s.source for s in split.train + split.val})
    counts = "; ".join(f"{src} {sum(s.source == src for s in split.train)}/"
                       f"{sum(s.source == src for s in split.val)}" for src in sources)
    print(f"data: {len(split.train)} train ({len(drop)} near-duplicates of held-out "
          f"images dropped), {len(split.calib)} calibration, {len(split.val)} validation "
          f"(train/val by source: {counts}), "
          f"{len(split.skipped)} names skipped (not AGE_GENDER_RACE_*.jpg); images ready in {time.time() - t0:.1f}s",
          flush=True)
    return ((split.train, torch.from_numpy(xt)), (split.calib, torch.from_numpy(xc)),
            (split.val, torch.from_numpy(xv)), split.skipped)


def epoch_pool(samples, child_repeat, balance, gen):
    """The training indices of one epoch. By default every image once, and
    those of children (known age under 10) child_repeat times in all. With
    balance > 0, as many draws as images, each group (source x age bucket;
    a gender-only source is one group) weighted by its size to the power
    -balance: 0.5 gives a group four times smaller twice the weight per
    image, so that UTKFace's many adults in their twenties do not drown out
    the 40+ and 0-9 groups and the smaller sources."""
    n = len(samples)
    if balance > 0:
        groups = [(s.source, data.age_bucket(s.age) if s.age >= 0 else -1) for s in samples]
        sizes = {}
        for g in groups:
            sizes[g] = sizes.get(g, 0) + 1
        w = torch.tensor([sizes[g] ** -balance for g in groups], dtype=torch.float64)
        return torch.multinomial(w, n, replacement=True, generator=gen)
    pool = torch.arange(n)
    age = torch.tensor([s.age for s in samples])
    children = ((age >= 0) & (age < 10)).nonzero().flatten()
    pool = torch.cat([pool] + [children] * (child_repeat - 1)) if child_repeat > 1 else pool
    return pool[torch.randperm(len(pool), generator=gen)]


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


def distill_loss(out, teacher_out):
    """What the student learns from its teacher on the same augmented batch:
    the teacher's whole age distribution (KL divergence) and its gender
    probability (cross-entropy against it as a soft target), for every
    image, those without an age label included."""
    s_age, s_gender = out
    t_age, t_gender = teacher_out
    kl = F.kl_div(F.log_softmax(s_age, dim=1), F.softmax(t_age, dim=1), reduction="batchmean")
    return kl + F.binary_cross_entropy_with_logits(s_gender, torch.sigmoid(t_gender))


def load_teacher(runs, preset, sources, device):
    """The trained teacher preset's net, frozen, or None without one."""
    if not preset.teacher:
        return None
    tp = presets.get(preset.teacher)
    if (tp.size, tp.gray) != (preset.size, preset.gray):
        raise TrainingError(f"teacher {tp.name}'s input differs from {preset.name}'s")
    net, _ = load_trained(run_dir(runs, tp, sources), tp, device)
    for p in net.parameters():
        p.requires_grad_(False)
    return net.to(memory_format=torch.channels_last)


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


def checkpoint_path(d):
    return os.path.join(d, "last.pt")


def load_checkpoint(path, device):
    """torch.load of our own checkpoint. PyTorch 2.6 made weights_only=True the
    default, which refuses the optimizer and RNG state saved here; these files
    are written by this pipeline, so full unpickling is asked for explicitly."""
    if "weights_only" in inspect.signature(torch.load).parameters:
        return torch.load(path, map_location=device, weights_only=False)
    return torch.load(path, map_location=device)


def sources_of(args):
    """The command line's data flags as the library takes them."""
    return data.Sources(tuple(args.data), args.crops, args.celebahq, args.cache, args.limit, args.train_percent)


def train(args):
    preset = presets.get(args.preset)
    device = setup_torch(args.threads, args.device)
    torch.manual_seed(args.seed)
    sources = sources_of(args)
    ck = checkpoint_path(run_dir(args.runs, preset, sources))
    (train_s, xt), (calib_s, xc), (val_s, xv), _ = load_split(preset, sources)

    # channels_last made a training step of the compact nets 1.4-1.7x faster on CPU.
    net = preset.build().to(device).to(memory_format=torch.channels_last)
    teacher = load_teacher(args.runs, preset, sources, device)
    epochs = args.epochs or preset.epochs
    draws = len(epoch_pool(train_s, preset.child_repeat, 0, torch.Generator()))
    steps_per_epoch = max(1, math.ceil(draws / preset.batch))
    opt, sched = make_optimizer(preset, net, epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(args.seed)
    state = {"epoch": 0, "seconds": 0.0, "history": []}
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

    def score_and_save(record):
        """Adds the validation scores to record, prints it and checkpoints."""
        net.eval()
        ap, fp = predict_all(net, xv, device, preset.flip_average)
        m = metrics(val_s, ap, fp)["overall"]
        record.update({"val_mae": m.get("age_mae"), "val_gender": m.get("gender_accuracy"),
                       "val_ece": m.get("gender_ece")})
        if len({s.source for s in val_s}) > 1:
            record["val_by_source"] = {src: [sm["overall"].get("age_mae"), sm["overall"].get("gender_accuracy")]
                                       for src, sm in by_source(val_s, ap, fp).items()}
        print(json.dumps(record), flush=True)
        save_checkpoint(ck, net, opt, sched, gen, state, preset)

    print(f"preset {preset.name}: {nets.count_params(net):,} parameters, "
          f"{nets.count_macs(net.cpu(), (1 if preset.gray else 3, preset.size, preset.size)) / 1e6:.1f} MMAC/image, "
          f"{epochs} epochs x {steps_per_epoch} steps on {device}", flush=True)
    net.to(device)
    labels = data.labels(train_s)[:2]
    steps_left = args.max_steps or math.inf
    while state["epoch"] < epochs and steps_left > 0:
        t0 = time.time()
        perm = epoch_pool(train_s, preset.child_repeat, preset.balance, gen)
        losses, steps = train_epoch(net, teacher, preset, (opt, sched), (xt, *labels), perm, gen, device, steps_left)
        steps_left -= steps
        state["epoch"] += 1
        state["seconds"] += time.time() - t0
        rec = {"epoch": state["epoch"], **losses, "seconds": round(state["seconds"], 1)}
        state["history"].append(rec)
        score_and_save(rec)  # the history holds rec, scores included
    # Checkpoints before the recalibration mode existed say True for "clean".
    done = state.get("batchnorm_recalibrated")
    if state["epoch"] >= epochs and {True: "clean"}.get(done, done) != preset.recalibrate:
        if preset.recalibrate == "augmented":
            recalibrate_batchnorm(net, augmented_batches(xt, train_s, preset, device, args.seed))
        else:
            recalibrate_batchnorm(net, clean_batches(xt, device))
        state["batchnorm_recalibrated"] = preset.recalibrate
        state.pop("gender_temperature", None)  # fitted on the statistics just replaced
        score_and_save({"batchnorm": f"recalibrated on the {preset.recalibrate} training images"})
    if state["epoch"] >= epochs and "gender_temperature" not in state and hasattr(net, "temperature") and len(calib_s):
        t = fit_temperature(net, xc, data.labels(calib_s)[1], device)
        net.temperature.fill_(t)
        state["gender_temperature"] = t
        score_and_save({"gender_temperature": round(t, 4), "fitted_on": f"{len(calib_s)} calibration images"})
    print(f"trained {state['epoch']} epochs in {state['seconds'] / 60:.1f} min; checkpoint {ck}", flush=True)
    return 0


def train_epoch(net, teacher, preset, optim, training, perm, gen, device, steps_left):
    """One pass over perm's training images in batches, at most steps_left
    steps. Returns the mean losses and the steps taken."""
    opt, sched = optim
    xt, age_t, female_t = training
    net.train()
    tot = tot_a = tot_g = 0.0
    steps = 0
    for i in range(0, len(perm), preset.batch):
        if steps >= steps_left:
            break
        idx = perm[i:i + preset.batch]
        xb = xt[idx].to(device).float()
        if preset.augment:
            xb = augment(xb, gen, preset.erase, preset.lowres, preset.robust)
        xb = (xb / 127.5 - 1.0).contiguous(memory_format=torch.channels_last)
        out = net(xb)
        loss, la, lg = loss_fn(net, out, age_t[idx].to(device), female_t[idx].to(device), preset.gender_weight)
        if teacher is not None:
            with torch.no_grad():
                taught = teacher(xb)
            loss = (1 - preset.distill) * loss + preset.distill * distill_loss(out, taught)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        tot += float(loss) * len(idx)
        tot_a += float(la) * len(idx)
        tot_g += float(lg) * len(idx)
        steps += 1
    n = max(1, min(len(perm), steps * preset.batch))
    return {"loss": round(tot / n, 4), "age_loss": round(tot_a / n, 4), "gender_loss": round(tot_g / n, 4)}, steps


def save_checkpoint(ck, net, opt, sched, gen, state, preset):
    tmp = ck + ".tmp"
    torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "generator": gen.get_state(), "state": state, "preset": preset.name}, tmp)
    os.replace(tmp, ck)


@torch.no_grad()
def recalibrate_batchnorm(net, batches):
    """Replaces each batch-norm layer's running mean and variance with their
    plain average over the input batches. Training leaves a moving average
    over augmented batches, which need not be what the model meets at
    inference (training/README.md has what each choice of batches did). No
    validation image is used."""
    norms = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    net.eval()
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below
        m.train()
    for xb in batches:
        net(xb)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    net.eval()


def clean_batches(x_uint8, device, batch=256):
    """The un-augmented training images and their mirrors (training flipped
    half its images): on `plain` recalibrating over these alone took the
    validation MAE from 4.28 to 4.15 years."""
    for i in range(0, len(x_uint8), batch):
        xb = normalize(x_uint8[i:i + batch].to(device))
        yield xb
        yield xb.flip(3)


def augmented_batches(x_uint8, samples, preset, device, seed):
    """One epoch of training draws (balanced as training draws them) through
    the training augmentation, in training's batch size. For v3, trained
    with blur, JPEG and low-resolution round trips, statistics of clean
    images cost 0.25 years of validation MAE (5.26 to 5.52) where these
    kept it."""
    gen = torch.Generator().manual_seed(seed)
    perm = epoch_pool(samples, preset.child_repeat, preset.balance, gen)
    for i in range(0, len(perm), preset.batch):
        xb = augment(x_uint8[perm[i:i + preset.batch]].to(device).float(), gen, preset.erase, preset.lowres,
                     preset.robust)
        yield (xb / 127.5 - 1.0).contiguous(memory_format=torch.channels_last)


def load_trained(folder, preset, device, untrained=False):
    """preset's net with the weights of its checkpoint in the run folder
    (fresh weights if untrained), and the checkpoint's training state."""
    net = preset.build()
    state = {"epoch": 0, "seconds": 0.0, "history": []}
    if not untrained:
        ck = checkpoint_path(folder)
        if not os.path.exists(ck):
            raise TrainingError(f"no checkpoint at {ck}: run 'train --preset {preset.name}' first")
        saved = load_checkpoint(ck, "cpu")
        net.load_state_dict(saved["model"])
        state = saved["state"]
        if "gender_temperature" in state:
            net.temperature.fill_(state["gender_temperature"])
    return net.to(device).eval(), state
