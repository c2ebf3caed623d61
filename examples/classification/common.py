"""Helpers shared by infer.py and eval.py: finding the qmap module, preprocessing options,
class names, probabilities and top-k."""
import argparse
import os
import re
import sys

# Let the examples run from a source checkout without setting PYTHONPATH: <repo>/build/python.
_BUILD_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "python")
if os.path.isdir(os.path.join(_BUILD_PY, "qmap")) and _BUILD_PY not in sys.path:
    sys.path.append(_BUILD_PY)

import numpy as np  # noqa: E402

import qmap  # noqa: E402,F401  (re-exported for the scripts)


def size(text):
    """'224' -> 224, '224x200' -> (224, 200) (height x width, as qmap preprocess)."""
    parts = text.lower().split("x")
    try:
        vals = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError("'%s': expected N or HxW" % text)
    if len(vals) == 1:
        return vals[0]
    if len(vals) == 2:
        return tuple(vals)
    raise argparse.ArgumentTypeError("'%s': expected N or HxW" % text)


def floats(text):
    """'123.675,116.28,103.53' or '123.675 116.28 103.53' -> [123.675, 116.28, 103.53]."""
    try:
        return [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError("'%s': expected numbers separated by commas or spaces" % text)


def add_image_options(p):
    """The transforms qmap.load_image applies before the model's own conversion, and (for a
    model qmap makertbin did not write) how its input was trained."""
    p.add_argument("--short-side", type=int, help="resize the short side to N first (ImageNet: 256)")
    p.add_argument("--resize", type=size, help="resize to N or HxW")
    p.add_argument("--crop", type=size, help="center crop N or HxW (ImageNet: 224)")
    g = p.add_argument_group("models without qmap metadata (e.g. the original float ONNX)")
    g.add_argument("--color", choices=["rgb", "bgr", "gray"], help="input color (default rgb)")
    g.add_argument("--layout", choices=["NCHW", "NHWC"], help="input layout (default NCHW)")
    g.add_argument("--mean", type=floats, help="per-channel mean in pixel units, e.g. 123.675,116.28,103.53")
    g.add_argument("--scale", type=floats, help="per-channel scale, e.g. 0.017125,0.017507,0.017429")


def image_options(args):
    return {k: getattr(args, k) for k in ("short_side", "resize", "crop", "color", "layout", "mean", "scale")}


def read_class_names(path):
    """One class name per line, line i = class i. A leading WordNet id ('n01440764 tench, ...',
    as in ImageNet's synset_words.txt) is dropped."""
    with open(path, encoding="utf-8") as f:
        return [re.sub(r"^n\d{8}\s+", "", line.strip()) for line in f if line.strip()]


def probabilities(output):
    """A classifier output as probabilities: kept when it already is a distribution (the
    model ends in Softmax), else softmax of the logits (in float64)."""
    v = np.asarray(output, np.float64).ravel()
    if v.min() >= 0 and abs(v.sum() - 1.0) < 1e-3:
        return v
    e = np.exp(v - v.max())
    return e / e.sum()


def top_k(output, k):
    """Class indices of the k highest scores, best first; ties go to the lower index."""
    v = np.asarray(output).ravel()
    return [int(i) for i in np.argsort(-v, kind="stable")[:k]]
