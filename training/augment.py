"""Training-time augmentation of uint8 face crops, on float batches in [0, 255]."""

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def augment(x, gen, erase=0.0, lowres=0.0, robust=False):
    """Flip, shift, scale, small rotation and colour jitter on a float batch in
    [0,255]; with probability `erase`, one random rectangle of each image is
    filled with noise (random erasing); with probability `lowres`, the image
    is brought down to fewer pixels and back (see low_resolution); with
    `robust`, the degradations of scans and web photos too (degrade)."""
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
        if robust:
            x = tint(x, gen)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    contrast = torch.empty(n, 1, 1, 1).uniform_(0.7, 1.3, generator=gen).to(dev)
    bright = torch.empty(n, 1, 1, 1).uniform_(-25, 25, generator=gen).to(dev)
    x = (x - mean) * contrast + mean + bright
    if erase > 0:
        x = random_erase(x, gen, erase)
    x = x.clamp(0, 255)
    if robust:
        x = jpeg(blur(x, gen, 0.15), gen, 0.2)
    return x


# Sepia as old prints fade: each output channel a mix of the input's.
SEPIA = torch.tensor([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])


def tint(x, gen, white_balance=0.3, sepia=0.05):
    """In a fraction white_balance of the batch, each channel scaled by
    0.85-1.15 (a camera's or scanner's colour cast); in a fraction sepia,
    the sepia of an old print."""
    n, dev = x.shape[0], x.device
    gains = torch.empty(n, 3, 1, 1).uniform_(0.85, 1.15, generator=gen)
    wb = (torch.rand(n, generator=gen) < white_balance).view(n, 1, 1, 1)
    x = torch.where(wb.to(dev), x * gains.to(dev), x)
    sep = (torch.rand(n, generator=gen) < sepia).view(n, 1, 1, 1).to(dev)
    toned = torch.einsum("oc,nchw->nohw", SEPIA.to(dev), x)
    return torch.where(sep, toned, x)


def blur(x, gen, p):
    """A Gaussian blur of sigma 0.4-1.2 px (of the 64 px crop) in a fraction p
    of the batch: focus, motion and scanner softness."""
    n, c = x.shape[:2]
    chosen = (torch.rand(n, generator=gen) < p).nonzero().flatten()
    if not len(chosen):
        return x
    out = x.clone()
    sigma = torch.empty(len(chosen)).uniform_(0.4, 1.2, generator=gen)
    t = torch.arange(-3, 4, dtype=torch.float32)
    k = torch.exp(-0.5 * (t.view(1, -1) / sigma.view(-1, 1)) ** 2)
    k = (k / k.sum(dim=1, keepdim=True)).to(x.device)  # one 7-tap kernel per image
    xs = x[chosen.to(x.device)]
    m = len(chosen)
    # Grouped convolution: each image's channels with its own kernel.
    kh = k.repeat_interleave(c, 0).view(m * c, 1, 1, 7)
    kv = k.repeat_interleave(c, 0).view(m * c, 1, 7, 1)
    y = xs.reshape(1, m * c, *xs.shape[2:])
    y = F.conv2d(F.pad(y, (3, 3, 0, 0), mode="replicate"), kh, groups=m * c)
    y = F.conv2d(F.pad(y, (0, 0, 3, 3), mode="replicate"), kv, groups=m * c)
    out[chosen.to(x.device)] = y.view_as(xs)
    return out


def jpeg(x, gen, p):
    """A JPEG round trip at quality 20-85 in a fraction p of the batch: the
    block artefacts of web photos and messaging apps."""
    n = x.shape[0]
    chosen = (torch.rand(n, generator=gen) < p).nonzero().flatten().tolist()
    if not chosen:
        return x
    quality = torch.randint(20, 86, (len(chosen),), generator=gen).tolist()
    out = x.clone()
    for i, q in zip(chosen, quality):
        arr = x[i].round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        mode = "L" if arr.shape[2] == 1 else "RGB"
        buf = io.BytesIO()
        Image.fromarray(arr[:, :, 0] if mode == "L" else arr, mode).save(buf, "JPEG", quality=q)
        back = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert(mode), dtype=np.float32)
        back = back[:, :, None] if mode == "L" else back
        out[i] = torch.from_numpy(back.copy()).permute(2, 0, 1).to(x.device)
    return out


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
