#!/usr/bin/python3
"""Writes Fashion-MNIST images as 8-bit gray PNG files plus an ImageNet-style labels file.

The demo (examples/fashion_mnist/) uses it twice: a few train-split images become the
calibration set of `qmap makertbin`, and the test split is the evaluation set of
`qmap eval`. The images come from Debian's `dataset-fashion-mnist` package
(/usr/share/datasets/fashion-mnist/*-idx?-ubyte.gz, the original IDX files of
https://github.com/zalandoresearch/fashion-mnist).

Usage:
  /usr/bin/python3 tools/fashion_mnist_images.py OUT_DIR [--split test|train] [--count N] [--offset K]
                                                [--data-dir DIR]

Writes OUT_DIR/<split>_<index:05d>.png (28x28, mode L, the raw pixels 0..255; <index> is
the image's index in the split) for indices K .. K+N-1, and OUT_DIR/labels.txt with one
`<file> <label>` line per image in index order (label = class index 0..9, see
examples/fashion_mnist/model/labels.txt for the names). Deterministic: the same arguments
give byte-identical files. Each file is written to a temporary name and renamed, so an
interrupted run leaves no half-written file.

This module also holds the IDX reader used by tools/train_fashion_mnist.py.
"""
import argparse
import gzip
import os
import struct
import sys

import numpy as np

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
# File names of the IDX files per split, as the upstream data set names them.
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
SPLIT_SIZES = {"train": 60000, "test": 10000}
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class DataError(Exception):
    pass


def read_idx(path, expected_ndim):
    """Reads an IDX file (optionally gzip-compressed) of unsigned bytes into a numpy array.

    IDX: big-endian magic 0x00 0x00 <type> <ndim>, then ndim big-endian uint32 sizes, then
    the data in C order. Only type 0x08 (uint8) occurs in (Fashion-)MNIST.
    """
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot read: {e} (install Debian's dataset-fashion-mnist or pass --data-dir)")
    if len(raw) < 4:
        raise DataError(f"{path}: {len(raw)} bytes: an IDX file starts with a 4-byte magic")
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise DataError(f"{path}: magic {raw[:4].hex()}: expected 0000 08 <ndim> (uint8 IDX)")
    if ndim != expected_ndim:
        raise DataError(f"{path}: {ndim} dimensions: expected {expected_ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes, need {header})")
    dims = struct.unpack(">" + "I" * ndim, raw[4:header])
    count = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != count:
        raise DataError(f"{path}: {len(raw) - header} data bytes: dimensions {dims} need {count}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_split(split, data_dir=DEFAULT_DATA_DIR):
    """Returns (images uint8 [N,28,28], labels uint8 [N]) of the `train` or `test` split."""
    img_name, lbl_name = SPLIT_FILES[split]
    images = read_idx(os.path.join(data_dir, img_name), 3)
    labels = read_idx(os.path.join(data_dir, lbl_name), 1)
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise DataError(f"{data_dir}: {split} split has images {images.shape} and labels {labels.shape}: "
                        "expected N x 28 x 28 images and N labels")
    if labels.max(initial=0) > 9:
        raise DataError(f"{data_dir}: {split} labels: value {labels.max()}: labels are 0..9")
    return images, labels


def _write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def png_bytes(image):
    """Encodes a 2-D uint8 array as an 8-bit gray PNG (no metadata, so output is stable)."""
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(image, mode="L").save(buf, format="PNG", optimize=False, compress_level=9)
    return buf.getvalue()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", metavar="OUT_DIR")
    ap.add_argument("--split", choices=sorted(SPLIT_FILES), default="test")
    ap.add_argument("--count", type=int, default=None, help="number of images (default: all from --offset on)")
    ap.add_argument("--offset", type=int, default=0, help="index of the first image in the split (default 0)")
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=f"folder of the IDX files (default {DEFAULT_DATA_DIR})")
    args = ap.parse_args(argv)

    try:
        images, labels = load_split(args.split, args.data_dir)
    except DataError as e:
        print(f"ERROR fashion_mnist_images: {e}", file=sys.stderr)
        return 1
    n = len(images)
    count = n - args.offset if args.count is None else args.count
    if args.offset < 0 or args.offset >= n:
        print(f"ERROR fashion_mnist_images: --offset {args.offset}: the {args.split} split has indices 0..{n - 1}",
              file=sys.stderr)
        return 2
    if count <= 0 or args.offset + count > n:
        print(f"ERROR fashion_mnist_images: --count {count} from --offset {args.offset}: "
              f"the {args.split} split has {n} images", file=sys.stderr)
        return 2

    os.makedirs(args.out_dir, exist_ok=True)
    lines = []
    for i in range(args.offset, args.offset + count):
        name = f"{args.split}_{i:05d}.png"
        _write_atomic(os.path.join(args.out_dir, name), png_bytes(images[i]))
        lines.append(f"{name} {int(labels[i])}\n")
    _write_atomic(os.path.join(args.out_dir, "labels.txt"), "".join(lines).encode())
    print(f"fashion_mnist_images: wrote {count} {args.split} images "
          f"(indices {args.offset}..{args.offset + count - 1}) and labels.txt to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
