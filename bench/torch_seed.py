#!/usr/bin/env python3
"""PyTorch eager inference of the reference (seed) architecture, as the
reference system runs it: gray, 360x360, [-1, 1], one image at a time through
a Keras-style model. Untrained weights: only the speed is measured.

    /usr/bin/python3 bench/torch_seed.py LIST_FILE   (one image path per line)

Prints one line: images/s.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "training"))
import nets  # noqa: E402


def main():
    paths = [p for p in open(sys.argv[1]).read().splitlines() if p]
    torch.set_num_threads(os.cpu_count() or 1)
    net = nets.SeedNet(1, 360).eval()
    start = time.time()
    with torch.no_grad():
        for p in paths:
            im = Image.open(p).convert("L").resize((360, 360), Image.BILINEAR)
            x = torch.from_numpy(np.asarray(im, dtype=np.float32) / 127.5 - 1).view(1, 1, 360, 360)
            net.predict(x)
    print(f"{len(paths) / (time.time() - start):.2f} images/s")


if __name__ == "__main__":
    main()
