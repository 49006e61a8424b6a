#!/usr/bin/env python3
"""agegender training pipeline: train, evaluate and export age/gender models.

Run with Debian's python (python3-torch, python3-onnx, python3-numpy, python3-pil):

    /usr/bin/python3 training/main.py train    --preset default
    /usr/bin/python3 training/main.py evaluate --preset default
    /usr/bin/python3 training/main.py export   --preset default --out models/agegender.onnx
    /usr/bin/python3 training/main.py fixture  --preset default --model models/agegender.onnx

See training/README.md for the data split, the presets and the results.
"""

import os

# Spinning OpenMP threads made every step 5-6x slower whenever anything else
# used the 2 cores; this must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import evaluate  # noqa: E402
import export  # noqa: E402
import pipeline  # noqa: E402
import teacher  # noqa: E402
import v4  # noqa: E402
from errors import TrainingError  # noqa: E402


def add_v4_commands(sub, here, shared, root):
    """The commands of model v4 (training/v4.py) and of its teacher."""
    tc = sub.add_parser("teacher-check", help="check the PyTorch faceres-deep against tfjs (bench/faceres/run.sh)")
    tc.add_argument("step", choices=["write", "compare"])
    tc.add_argument("--io", required=True, help="folder for the inputs and both outputs")
    tc.add_argument("images", nargs="*", help="images to check on (default: a built-in set)")

    def v4_common(sp):
        sp.add_argument("--crops", default=os.path.join(here, ".cache", "crops-v4"),
                        help="one folder per source cropped with a wide margin (make crops-v4)")
        sp.add_argument("--wider-labels", default=os.path.join(shared, "wider-faces", "labels.csv"),
                        help="wider-faces' labels, for its perceived age groups")
        sp.add_argument("--teacher", default=os.path.join(here, ".cache", "teacher"),
                        help="faceres-deep's files (make teacher)")
        sp.add_argument("--runs", default=os.path.join(here, "runs"), help="checkpoints and metrics")
        sp.add_argument("--cache", default=os.path.join(here, ".cache"), help="decoded crops and activations")
        sp.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")

    vs = sub.add_parser("v4-study", help="faceres-deep's own heads per crop margin and input size")
    v4_common(vs)
    vs.add_argument("--sizes", type=int, nargs="+", default=[224, 160, 128, 112])
    vs.add_argument("--margins", type=float, nargs="+", default=[1.0, 1.15, 1.3])

    vt = sub.add_parser("v4-train", help="fine-tune a v4 preset on cached activations")
    v4_common(vt)
    vt.add_argument("--preset", default="v4", choices=sorted(v4.PRESETS))
    vt.add_argument("--epochs", type=int, default=0, help="override the preset's epochs")
    vt.add_argument("--start", type=int, default=None, help="first trained trunk layer (ablations)")
    vt.add_argument("--sources", nargs="+", help="train on these sources only (ablations)")

    vx = sub.add_parser("v4-export", help="export a trained v4 preset to ONNX with its metadata")
    v4_common(vx)
    vx.add_argument("--preset", default="v4", choices=sorted(v4.PRESETS))
    vx.add_argument("--out", required=True)
    vx.add_argument("--framing", default=os.path.join(here, "crop_framing.json"))

    vf = sub.add_parser("v4-fixture", help="write the Go parity fixture for a trained v4 preset")
    v4_common(vf)
    vf.add_argument("--preset", default="v4", choices=sorted(v4.PRESETS))
    vf.add_argument("--out", default=os.path.join(root, "testdata", "parity"))


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    shared = os.path.join(root, "..", "shared", "data")
    default_data = [os.path.join(shared, "utkface"), os.path.join(shared, "utkface-more")]

    p = argparse.ArgumentParser(prog="training/main.py", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("--preset", default="default")
        sp.add_argument("--data", nargs="+", default=default_data,
                        help="folders of UTKFace-style images (default: both UTKFace folders)")
        sp.add_argument("--celebahq", default=os.path.join(here, ".cache", "crops", "celebahq"),
                        help="CelebA-HQ crops written by training/facecrop, for presets that use them")
        sp.add_argument("--crops", default=os.path.join(here, ".cache", "crops"),
                        help="one folder per source cropped by training/facecrop (make crops), for presets that use them")
        sp.add_argument("--runs", default=os.path.join(here, "runs"), help="checkpoints and logs")
        sp.add_argument("--cache", default=os.path.join(here, ".cache"), help="decoded image cache")
        sp.add_argument("--limit", type=int, default=0, help="use only this many training images (smoke tests)")
        sp.add_argument("--train-percent", type=int, default=100, metavar="P",
                        help="train on a fixed P%% of the training images (learning curves); "
                             "the run gets its own folder")
        sp.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
        sp.add_argument("--device", default="", help="cpu or cuda (default: cuda when available)")

    t = sub.add_parser("train", help="train a preset (resumes from its last checkpoint)")
    common(t)
    t.add_argument("--epochs", type=int, default=0, help="override the preset's epochs")
    t.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke tests)")
    t.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    t.add_argument("--seed", type=int, default=1)

    e = sub.add_parser("evaluate", help="validation metrics of a trained preset, overall and per bucket")
    common(e)
    e.add_argument("--flip-average", choices=["preset", "on", "off"], default="preset",
                   help="override the preset's flip averaging, to measure what it buys")
    e.add_argument("--face-px", type=int, default=0, metavar="N",
                   help="score faces as if N px wide in a photo: each crop is resized to N px and back first")
    e.add_argument("--ensemble-with", default="", metavar="PRESET",
                   help="average with another trained preset of the same input size (prints only)")

    x = sub.add_parser("export", help="export a trained preset to ONNX with its metadata")
    common(x)
    x.add_argument("--out", required=True)
    x.add_argument("--framing", default=os.path.join(here, "crop_framing.json"))
    x.add_argument("--untrained", action="store_true", help="export fresh weights (speed tests of a preset)")

    f = sub.add_parser("fixture", help="write the Go parity fixture for an exported model")
    common(f)
    f.add_argument("--out", default=os.path.join(root, "testdata", "parity"))

    c = sub.add_parser("card", help="print the validation metrics as Markdown tables for the model card")
    common(c)

    add_v4_commands(sub, here, shared, root)

    args = p.parse_args(argv)
    if args.cmd in ("teacher-check", "v4-study", "v4-train", "v4-export", "v4-fixture"):
        args.train_percent = 100
    if not 1 <= args.train_percent <= 100:
        p.error(f"--train-percent {args.train_percent}: must be 1 to 100")
    commands = {"train": pipeline.train, "evaluate": evaluate.evaluate, "export": export.export,
                "fixture": export.fixture, "card": export.card,
                "teacher-check": teacher.teacher_check, "v4-study": v4.study, "v4-train": v4.train,
                "v4-export": v4.export, "v4-fixture": v4.fixture}
    try:
        return commands[args.cmd](args)
    except TrainingError as e:
        print(f"training/main.py {args.cmd}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
