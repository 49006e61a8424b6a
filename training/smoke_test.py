#!/usr/bin/env python3
"""CI smoke test of the training pipeline: every preset trains for a couple of
steps on a handful of images, exports, and the ONNX file is checked (it loads,
its outputs are named and shaped as the contract says, its metadata parses).

Uses ../shared/data/utkface when present, else generated UTKFace-style images.
Prints 'N passed, N failed' as its last line.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from PIL import Image  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import data as utk  # noqa: E402
import main  # noqa: E402
import presets  # noqa: E402
import v4data  # noqa: E402

SHARED = os.path.join(HERE, "..", "..", "shared", "data", "utkface")


def generated_data(folder, n=24):
    """UTKFace-style names over random-texture images: the pipeline's plumbing
    is under test here, not accuracy."""
    rng = np.random.RandomState(0)
    for i in range(n):
        age, gender, race = int(rng.randint(1, 90)), i % 2, i % 5
        arr = rng.randint(0, 256, (200, 200, 3), dtype=np.uint8)
        Image.fromarray(arr).save(os.path.join(folder, f"{age}_{gender}_{race}_2017{i:010d}.jpg.chip.jpg"))
    # a name that does not parse must be skipped and counted, not crash
    Image.fromarray(arr).save(os.path.join(folder, "not_a_label.jpg"))


def generated_crops(root, n=24):
    """A folder per cropped source as training/facecrop writes it (crops.csv:
    file,source,age,female,race,detected,score), over random textures;
    enough names that some fall in the validation split."""
    rng = np.random.RandomState(1)
    for name in sorted({c for p in presets.PRESETS.values() for c in p.crops} | {"celebahq"}):
        folder = os.path.join(root, name)
        os.makedirs(folder)
        with open(os.path.join(folder, "crops.csv"), "w") as f:
            f.write("file,source,age,female,race,detected,score\n")
            for i in range(n):
                Image.fromarray(rng.randint(0, 256, (72, 72, 3), dtype=np.uint8)).save(os.path.join(folder, f"c{i}.png"))
                age = -1 if name == "celebahq" else int(rng.randint(1, 90))
                f.write(f"c{i}.png,{name}-{i}.jpg,{age},{i % 2},-1,true,0.9\n")


def generated_v4_crops(root, n=40):
    """Model v4's sources as `make crops-v4` writes them, over random
    textures, and a wider-faces labels.csv with perceived age groups."""
    rng = np.random.RandomState(2)
    groups = list(v4data.AGE_GROUPS) + ["Not Sure"]
    for name in v4data.SOURCES:
        folder = os.path.join(root, name)
        os.makedirs(folder)
        rows, labels = ["file,source,age,female,race,detected,score"], ["file,gender,age_group"]
        for i in range(n):
            Image.fromarray(rng.randint(0, 256, (120, 120, 3), dtype=np.uint8)).save(os.path.join(folder, f"c{i}.png"))
            age = -1 if name in ("celebahq", "wider-faces") else int(rng.randint(1, 90))
            female = -1 if name == "wider-faces" and i % 5 == 0 else i % 2
            rows.append(f"c{i}.png,c{i}.jpg,{age},{female},-1,{'false' if i == 1 else 'true'},0.9")
            labels.append(f"c{i}.jpg,{female},{groups[i % len(groups)]}")
        with open(os.path.join(folder, "crops.csv"), "w") as f:
            f.write("\n".join(rows) + "\n")
        if name == "wider-faces":
            with open(os.path.join(root, "wider-labels.csv"), "w") as f:
                f.write("\n".join(labels) + "\n")


def check_v4(work):
    """Both v4 presets fine-tune on generated crops (the fast
    one distilled from the other), export with the age distribution, and
    write the parity fixture."""
    teacher = os.path.join(HERE, ".cache", "teacher")
    crops = os.path.join(work, "crops-v4")
    generated_v4_crops(crops)
    common = ["--crops", crops, "--wider-labels", os.path.join(crops, "wider-labels.csv"), "--teacher", teacher,
              "--runs", os.path.join(work, "runs-v4"), "--cache", os.path.join(work, "cache-v4")]
    for name in ("v4", "v4-fast"):
        out = os.path.join(work, f"{name}.onnx")
        assert main.main(["v4-train", *common, "--preset", name]) == 0
        assert main.main(["v4-export", *common, "--preset", name, "--out", out]) == 0
        m = onnx.load(out)
        assert {o.name for o in m.graph.output} == {"age", "female_probability", "age_distribution"}
        contract = json.loads({p.key: p.value for p in m.metadata_props}["agegender"])
        assert contract["outputs"]["age_distribution"]["bins"] == 100
        assert contract["crop"]["margin"] == 1.0
    assert main.main(["v4-fixture", *common, "--preset", "v4", "--out", os.path.join(work, "parity")]) == 0
    with open(os.path.join(work, "parity", "expected.json")) as f:
        case = json.load(f)["cases"][0]
    assert case["age_low"] <= case["age"] <= case["age_high"], case


def check_onnx(path, preset):
    m = onnx.load(path)
    onnx.checker.check_model(m)
    outs = {o.name: o for o in m.graph.output}
    assert set(outs) == {"age", "female_probability"}, f"outputs {sorted(outs)}"
    for o in outs.values():
        dims = o.type.tensor_type.shape.dim
        assert len(dims) == 1 and dims[0].dim_param, f"{o.name} should be [batch], got {dims}"
    inp = m.graph.input[0]
    dims = [d.dim_value or d.dim_param for d in inp.type.tensor_type.shape.dim]
    ch = 1 if preset.gray else 3
    assert dims[1:] == [ch, preset.size, preset.size] and isinstance(dims[0], str), f"input dims {dims}"
    meta = {p.key: p.value for p in m.metadata_props}
    contract = json.loads(meta["agegender"])
    assert contract["schema"] == 1
    assert contract["input"]["width"] == preset.size and contract["input"]["color"] == ("gray" if preset.gray else "rgb")
    assert contract["outputs"]["gender"]["positive"] == "Female"
    assert contract["training"]["license"]


def check_subsets(folder):
    """--train-percent: each subset lies inside the next larger one and the
    whole training split, holds no validation image, leaves the validation
    split as it is, and 25% is smaller than the whole."""
    full = utk.scan([folder])
    quarter = utk.scan([folder], train_percent=25)
    half = utk.scan([folder], train_percent=50)
    names = lambda samples: {os.path.basename(s.path) for s in samples}  # noqa: E731
    assert names(quarter.train) <= names(half.train) <= names(full.train), "subsets do not nest"
    assert not names(full.train) & (names(full.val) | names(full.calib)), "training holds held-out images"
    assert not names(full.val) & names(full.calib), "calibration and validation overlap"
    assert names(half.val) == names(full.val), "--train-percent changed the validation split"
    assert names(half.calib) == names(full.calib), "--train-percent changed the calibration split"
    assert len(quarter.train) < len(full.train), "the 25% subset is the whole training split"


def main_():
    work = tempfile.mkdtemp(prefix="agegender-smoke-")
    passed = failed = 0
    try:
        if os.path.isdir(SHARED):
            data, limit = SHARED, 16
            print(f"smoke: using {SHARED} (16 images)")
        else:
            data, limit = os.path.join(work, "data"), 16
            os.makedirs(data)
            generated_data(data)
            print("smoke: ../shared/data absent; using generated images")
        crops = os.path.join(work, "crops")
        generated_crops(crops)
        try:
            check_subsets(data)
            passed += 1
            print("smoke: PASS training subsets")
        except Exception as e:
            failed += 1
            print(f"smoke: FAIL training subsets: {e!r}")
        for name in presets.PRESETS:
            preset = presets.get(name)
            t0 = time.time()
            common = ["--preset", name, "--data", data, "--runs", os.path.join(work, "runs"),
                      "--cache", os.path.join(work, "cache"), "--crops", crops,
                      "--celebahq", os.path.join(crops, "celebahq"), "--limit", str(limit)]
            out = os.path.join(work, f"{name}.onnx")
            try:
                assert main.main(["train", *common, "--epochs", "1", "--max-steps", "2"]) == 0
                assert main.main(["evaluate", *common]) == 0
                assert main.main(["export", *common, "--out", out]) == 0
                check_onnx(out, preset)
                passed += 1
                print(f"smoke: PASS {name} ({time.time() - t0:.0f}s)")
            except Exception as e:  # report every preset, then fail
                failed += 1
                print(f"smoke: FAIL {name}: {e!r}")
        if not os.path.exists(os.path.join(HERE, ".cache", "teacher", "faceres-deep.json")):
            print("smoke: SKIP v4: faceres-deep not fetched (make teacher)")
        else:
            t0 = time.time()
            try:
                check_v4(work)
                passed += 1
                print(f"smoke: PASS v4 and v4-fast ({time.time() - t0:.0f}s)")
            except Exception as e:
                failed += 1
                print(f"smoke: FAIL v4: {e!r}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main_())
