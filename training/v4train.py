"""Model v4's fine-tuning on cached activations: the tail of faceres-deep
(its last blocks, the 256-unit layer and both heads) learns from labels,
from the teacher where a face has no age label, and, for the fast preset,
from the accurate preset it is distilled from."""

import copy
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

import faceres
from pipeline import age_targets, epoch_pool
from scoring import best_temperature


class Tail(nn.Module):
    """faceres-deep from trunk layer start on: activations in, (age logits
    over 0..99, female logit) out."""

    def __init__(self, net, start, dropout=0.2):
        super().__init__()
        self.start = start
        self.blocks = copy.deepcopy(net.trunk[start:])
        self.feats, self.age, self.male = (copy.deepcopy(m) for m in (net.feats, net.age, net.male))
        self.drop = nn.Dropout(dropout)

    def forward(self, a):
        d = self.blocks(a).mean(dim=(2, 3))
        h = F.relu(self.feats(self.drop(d)))
        # faceres-deep's gender unit says male; the contract speaks of female.
        return self.age(h), -self.male(h).squeeze(1)

    def into(self, net):
        """net (a FaceRes) with this tail's weights in place of its own."""
        net = copy.deepcopy(net)
        for i, block in enumerate(copy.deepcopy(self.blocks)):
            net.trunk[self.start + i] = block
        net.feats, net.age, net.male = (copy.deepcopy(m) for m in (self.feats, self.age, self.male))
        return net


def group_log_likelihood(logp, groups, bounds):
    """log P(age in the face's perceived group) under each distribution."""
    ranges = torch.tensor(bounds, device=logp.device)[groups.clamp_min(0)]
    ages = torch.arange(logp.shape[1], device=logp.device)
    inside = (ages >= ranges[:, :1]) & (ages < ranges[:, 1:])
    return torch.logsumexp(logp.masked_fill(~inside, -1e9), dim=1)


def loss(out, batch, cfg):
    """Labels where there are labels; the teacher's age distribution where
    a face has no age; wider-faces' perceived age group as a weak ordinal
    target; and, with cfg.distill > 0, the accurate preset's answers on
    every face."""
    age_logits, female_logit = out
    logp = F.log_softmax(age_logits, dim=1)
    age, female, groups, teacher_p = batch["age"], batch["female"], batch["group"], batch["teacher"]
    known, zero = age >= 0, logp.new_zeros(())
    a_loss = zero
    if bool(known.any()):
        lp, a = logp[known], age[known].clamp(max=logp.shape[1] - 1)
        expect = (lp.exp() * torch.arange(lp.shape[1], device=lp.device)).sum(1)
        a_loss = -(age_targets(a, lp.shape[1]) * lp).sum(1).mean() + 0.05 * F.l1_loss(expect, a)
    unknown = ~known
    t_loss = zero
    if bool(unknown.any()):
        t = teacher_p[unknown]
        t_loss = (t * (t.clamp_min(1e-8).log() - logp[unknown])).sum(1).mean()
    has_group = groups >= 0
    g_age = zero
    if bool(has_group.any()):
        g_age = -group_log_likelihood(logp[has_group], groups[has_group], list(cfg.group_bounds)).mean()
    has_gender = female >= 0
    g_loss = F.binary_cross_entropy_with_logits(female_logit[has_gender], female[has_gender]) \
        if bool(has_gender.any()) else zero
    total = a_loss + cfg.teacher_weight * t_loss + cfg.group_weight * g_age + cfg.gender_weight * g_loss
    if cfg.distill > 0:
        kd = F.kl_div(logp, batch["soft_age"], reduction="batchmean") \
            + F.binary_cross_entropy_with_logits(female_logit, batch["soft_female"])
        total = (1 - cfg.distill) * total + cfg.distill * kd
    return total, {"age": float(a_loss), "teacher": float(t_loss), "group": float(g_age), "gender": float(g_loss)}


def fit(tail, views, targets, training, cfg, log):
    """Trains tail on the cached views (a list of float16 activation tensors
    of the same images) for cfg.epochs, each epoch drawing images balanced
    by source and age bucket and a random view of each. training is the
    samples and the rows of them to train on."""
    all_samples, rows = training
    samples = [all_samples[int(i)] for i in rows]
    gen = torch.Generator().manual_seed(cfg.seed)
    head_params = [p for m in (tail.feats, tail.age, tail.male) for p in m.parameters()]
    opt = torch.optim.AdamW([{"params": tail.blocks.parameters(), "lr": cfg.lr},
                             {"params": head_params, "lr": cfg.lr * cfg.head_lr_factor}], weight_decay=1e-4)
    per_epoch = math.ceil(len(samples) / cfg.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[cfg.lr, cfg.lr * cfg.head_lr_factor],
                                                total_steps=cfg.epochs * per_epoch, pct_start=0.15)
    for epoch in range(cfg.epochs):
        tail.train()
        perm = rows[epoch_pool(samples, 1, cfg.balance, gen)]
        view = torch.randint(len(views), (len(perm),), generator=gen)
        sums, n = {}, 0
        for i in range(0, len(perm), cfg.batch):
            idx, v = perm[i:i + cfg.batch], view[i:i + cfg.batch]
            a = torch.stack([views[int(k)][int(j)] for j, k in zip(idx, v)]).float()
            batch = {k: t[idx] for k, t in targets.items()}
            total, parts = loss(tail(a), batch, cfg)
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            sched.step()
            n += 1
            for k, val in {"loss": float(total), **parts}.items():
                sums[k] = sums.get(k, 0.0) + val
        log(epoch + 1, {k: round(v / max(n, 1), 4) for k, v in sums.items()})
    tail.eval()
    return tail


@torch.no_grad()
def predict(tail, acts, batch=256):
    """(age logits, female logits) of cached activations."""
    tail.eval()
    ages, fem = [], []
    for i in range(0, len(acts), batch):
        a, f = tail(acts[i:i + batch].float())
        ages.append(a)
        fem.append(f)
    return torch.cat(ages), torch.cat(fem)


def central_interval(probs, level):
    """The central interval of each age distribution over 0..N-1 years that
    holds level of its mass, in years: each bin i spreads its mass evenly
    over [i - 0.5, i + 0.5), and the quantiles are read off the piecewise
    linear CDF; a quantile below zero years is zero. internal/predict
    computes the same from the model's output."""
    cdf = probs.cumsum(dim=1)
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2

    def quantile(q):
        i = torch.searchsorted(cdf.contiguous(), torch.full((len(cdf), 1), q)).clamp(max=cdf.shape[1] - 1)
        c_hi = cdf.gather(1, i)
        p = probs.gather(1, i).clamp_min(1e-12)
        frac = 1 - (c_hi - q) / p
        return (i.float() - 0.5 + frac.clamp(0, 1)).squeeze(1).clamp_min(0)

    return quantile(lo_q), quantile(hi_q)


def coverage(age_logits, ages, level, temperature=1.0):
    probs = F.softmax(age_logits / temperature, dim=1)
    lo, hi = central_interval(probs, level)
    a = ages.float()
    return float(((a >= lo) & (a <= hi)).float().mean()), float((hi - lo).mean())


def fit_age_temperature(age_logits, ages, level):
    """The temperature of the age distribution whose central interval at
    level covers level of the calibration faces' true ages: coverage grows
    with the temperature, so bisection finds it."""
    lo, hi = math.log(0.2), math.log(5.0)
    for _ in range(40):
        mid = (lo + hi) / 2
        cov, _ = coverage(age_logits, ages, level, math.exp(mid))
        lo, hi = (mid, hi) if cov < level else (lo, mid)
    return math.exp((lo + hi) / 2)


def fit_gender_temperature(logits, female):
    """scoring.best_temperature over the calibration faces with a gender label."""
    has = female >= 0
    return best_temperature(logits[has], female[has])


def load_tail(run_folder, net):
    """The tail a v4-train run saved in run_folder (tail.pt) on net, and the
    run's saved state: its first trained layer and both temperatures."""
    saved = torch.load(os.path.join(run_folder, "tail.pt"))
    tail = Tail(net, saved["start"])
    tail.load_state_dict(saved["tail"])
    return tail.eval(), saved


def expected_age(age_logits, temperature=1.0):
    return faceres.expected_age(age_logits / temperature)
