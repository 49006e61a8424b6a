"""Networks. Each returns (age_output, gender_logit) from forward() and
(age_years, female_probability) from predict(), the exported contract."""

import torch
import torch.nn as nn
import torch.nn.functional as F

MAX_AGE = 100  # the age distribution covers 0..MAX_AGE years; older labels clip


class SeedNet(nn.Module):
    """The reference architecture: 4 conv blocks (32, 64, 128, 256), Dense 512,
    a linear age head and a sigmoid gender head, on gray 360x360 input."""

    age_head = "regression"

    def __init__(self, in_ch=1, size=360):
        super().__init__()
        layers, c = [], in_ch
        for out in (32, 64, 128, 256):
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c = out
        self.features = nn.Sequential(*layers)
        side = size // 16
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(256 * side * side, 512), nn.ReLU(inplace=True))
        self.age = nn.Linear(512, 1)
        self.gender = nn.Linear(512, 1)

    def forward(self, x):
        h = self.dense(self.features(x))
        return self.age(h).squeeze(1), self.gender(h).squeeze(1)

    def predict(self, x):
        age, g = self.forward(x)
        return age, torch.sigmoid(g)


def conv_bn(cin, cout, kernel=3, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class CompactNet(nn.Module):
    """A small VGG-style trunk with global pooling, an age distribution head
    over 0..MAX_AGE (its expectation is the age) and a gender logit.

    stem_stride=2 takes an input of twice the side through a wider strided
    first convolution, so the trunk sees the same 64x64 grid but the first
    layer sees the detail of a 128 px crop, for a few percent more MACs."""

    age_head = "distribution"

    def __init__(self, in_ch=3, widths=(24, 48, 96, 192), dropout=0.2, stem_stride=1, head=0):
        super().__init__()
        w1, w2, w3, w4 = widths
        stem = conv_bn(in_ch, w1) if stem_stride == 1 else conv_bn(in_ch, w1, 2 * stem_stride + 1, stem_stride)
        layers = [
            stem, nn.MaxPool2d(2),
            conv_bn(w1, w2), conv_bn(w2, w2), nn.MaxPool2d(2),
            conv_bn(w2, w3), conv_bn(w3, w3), nn.MaxPool2d(2),
            conv_bn(w3, w4), conv_bn(w4, w4),
        ]
        if head:
            # A 1x1 expansion before pooling, as MobileNets end: more features
            # for the heads at 2% of the cost of widening the last 3x3 stage.
            layers.append(conv_bn(w4, head, 1))
        out = head or w4
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.drop = nn.Dropout(dropout)
        self.age = nn.Linear(out, MAX_AGE + 1)
        self.gender = nn.Linear(out, 1)
        self.register_buffer("ages", torch.arange(MAX_AGE + 1, dtype=torch.float32), persistent=False)
        # The gender logit is divided by this before the sigmoid: fitted after
        # training on the calibration split (pipeline.fit_temperature) so that
        # the probability means what it says. Checkpoints carry it apart from
        # the weights, so older ones still load.
        self.register_buffer("temperature", torch.ones(()), persistent=False)

    def forward(self, x):
        h = self.drop(self.features(x))
        return self.age(h), self.gender(h).squeeze(1)

    def predict(self, x):
        logits, g = self.forward(x)
        age = (F.softmax(logits, dim=1) * self.ages).sum(dim=1)
        return age, torch.sigmoid(g / self.temperature)


class Exported(nn.Module):
    """What goes into the ONNX file: predict(), optionally averaged with the
    prediction on the horizontally mirrored input."""

    def __init__(self, net, flip_average, width):
        super().__init__()
        self.net = net
        self.flip_average = flip_average
        # A constant index (exported as Gather) rather than torch.flip or a
        # traced arange: both produced graphs that ONNX Runtime rejected.
        self.register_buffer("flip_index", torch.arange(width - 1, -1, -1), persistent=False)

    def forward(self, x):
        if not self.flip_average:
            return self.net.predict(x)
        # One pass over the batch and its mirror stacked behind it: a batch
        # of 2n runs faster in ONNX Runtime than two passes of n.
        both = torch.cat([x, torch.index_select(x, 3, self.flip_index)], 0)
        age, female = self.net.predict(both)
        return age.view(2, -1).mean(0), female.view(2, -1).mean(0)


def count_params(net):
    return sum(p.numel() for p in net.parameters())


def count_macs(net, shape):
    """Multiply-accumulates of conv and linear layers for one input of shape."""
    macs = []

    def conv_hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        macs.append(out.numel() // out.shape[0] * k)

    def linear_hook(m, inp, out):
        macs.append(m.in_features * m.out_features)

    hooks = []
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was = net.training
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, *shape))
    net.train(was)
    for h in hooks:
        h.remove()
    return sum(macs)
