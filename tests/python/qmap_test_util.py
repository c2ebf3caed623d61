"""Helpers shared by the Python tests: files they write (BMP images, calibration samples),
a tiny_cnn conversion with the built `qmap makertbin`, and seeded test images."""
import os
import shutil
import struct
import subprocess

import numpy as np

TEST_DATA = os.environ["QMAP_TEST_DATA"]
QMAP_BIN = os.environ["QMAP_BIN"]
TINY = os.path.join(TEST_DATA, "models", "tiny_cnn.onnx")
MEAN = np.array([123.675, 116.28, 103.53], np.float32)
SCALE = np.array([0.017125, 0.017507, 0.017429], np.float32)


def write_bmp(path, rgb):
    """24-bit uncompressed BMP (bottom-up rows, BGR, rows padded to 4 bytes) of an HxWx3 uint8 array."""
    h, w, _ = rgb.shape
    row = w * 3
    pad = (4 - row % 4) % 4
    pixels = b"".join(rgb[y, :, ::-1].tobytes() + b"\0" * pad for y in range(h - 1, -1, -1))
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(header + info + pixels)


def write_calibration(folder, n=8, seed=7):
    """n raw uint8 3x16x16 (rgb NCHW) samples as numpy's tofile writes them: gradients plus noise."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    k = np.arange(3 * 16 * 16)
    for i in range(n):
        base = (k * (i + 3)) % 200 + 20
        sample = np.clip(base + rng.integers(-20, 21, size=k.shape), 0, 255).astype(np.uint8)
        sample.tofile(os.path.join(folder, "sample_%d.bin" % (100 + i)))


def makertbin(folder, input_type_rt="rgb", input_layout_rt="NHWC"):
    """Converts tiny_cnn with the built qmap binary; returns the working dir."""
    shutil.rmtree(folder, ignore_errors=True)
    write_calibration(os.path.join(folder, "calib"))
    cfg = f"""model_parameters:
  onnx_model: '{TINY}'
  march: generic
  working_dir: model_output
  output_model_file_prefix: tiny
input_parameters:
  input_name: input
  input_shape: 1x3x16x16
  input_type_train: rgb
  input_layout_train: NCHW
  input_type_rt: {input_type_rt}
  input_layout_rt: {input_layout_rt}
  norm_type: data_mean_and_scale
  mean_value: {' '.join(str(v) for v in MEAN)}
  scale_value: {' '.join(str(v) for v in SCALE)}
calibration_parameters:
  cal_data_dir: calib
  calibration_type: default
"""
    with open(os.path.join(folder, "cfg.yaml"), "w") as f:
        f.write(cfg)
    r = subprocess.run([QMAP_BIN, "makertbin", "--config", "cfg.yaml", "--model-type", "onnx", "--no-progress"],
                       cwd=folder, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("qmap makertbin failed (%d):\n%s\n%s" % (r.returncode, r.stdout, r.stderr))
    return os.path.join(folder, "model_output")


def images(seed, n=4):
    """n uint8 NHWC 1x16x16x3 images: smooth gradients plus noise (image-like activations)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:16, 0:16]
    out = []
    for i in range(n):
        img = np.stack([(yy * 12 + 30 * i), (xx * 14), (yy + xx) * 7 + 20], axis=-1)
        img = np.clip(img + rng.integers(-25, 26, size=img.shape), 0, 255).astype(np.uint8)
        out.append(img[None])
    return out
