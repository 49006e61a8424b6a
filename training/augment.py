"""Training-time augmentation of uint8 face crops, on float batches in [0, 255]."""

import math

import torch
import torch.nn.functional as F


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
