"""Resource limits (docs/reliability.md, issue 14): a crafted file of a few hundred bytes must
not make qmap allocate gigabytes. Every case runs qmap with its address space limited to
2 GiB (RLIMIT_AS, as `ulimit -v 2097152`) and expects a non-zero exit, one ERROR line that
names what was refused, and no crash (no signal, no "internal error").

The cases: ONNX models whose shapes explode (a Resize by 3000x, a declared 30000x30000
input, a Pad by 20000), an initializer declaring 16 GiB that holds 8 bytes, the
same limit reached through a YAML input_shape and a Caffe prototxt input_dim, an image header
claiming 60000x60000 pixels, and a model within the per-tensor limit whose run needs more
than 2 GiB (the out-of-memory line).

Environment (tests/e2e/CMakeLists.txt): QMAP_BIN, QMAP_LIMITS_WORK (a scratch folder).
Not run in sanitizer builds: ASan and TSan reserve terabytes of address space.
"""
import os
import resource
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QMAP = os.environ["QMAP_BIN"]
WORK = os.environ["QMAP_LIMITS_WORK"]
LIMIT = 2 << 30  # bytes of address space: `ulimit -v 2097152`
# Address space the process reserves whatever the input, which grows with the core count: one
# OpenBLAS worker (stack and buffers) and one glibc malloc arena (64 MiB reserved) per thread.
# Bounded here so that a many-core machine refuses the crafted files for the reason under test,
# not for its thread reservations.
CHILD_ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", MALLOC_ARENA_MAX="2")

failures = []


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def path(name):
    return os.path.join(WORK, name)


def save_model(name, nodes, inputs, initializers, opset=13):
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "g", inputs, [y], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, path(name))
    return path(name)


def expect_refused(case, args, *needles):
    """qmap ARGS under the 2 GiB limit: exit code 1..3 (no signal), one ERROR line on stderr
    containing every needle, nothing that looks like a crash."""
    r = subprocess.run([QMAP] + args, cwd=WORK, capture_output=True, text=True, preexec_fn=limit_memory,
                       stdin=subprocess.DEVNULL, timeout=300, env=CHILD_ENV)
    errors = [l for l in r.stderr.splitlines() if l.startswith("ERROR")]
    problems = []
    if r.returncode <= 0 or r.returncode > 3:
        problems.append("exit code %d (want 1..3; negative: killed by a signal)" % r.returncode)
    if len(errors) != 1:
        problems.append("%d ERROR lines (want 1)" % len(errors))
    text = "\n".join(errors)
    for n in needles:
        if n not in text:
            problems.append("no '%s' in the error" % n)
    if "internal error" in r.stderr:
        problems.append("an internal error")
    size = sum(os.path.getsize(os.path.join(WORK, a)) for a in args
               if a.endswith((".onnx", ".yaml", ".prototxt", ".caffemodel")) and os.path.isfile(os.path.join(WORK, a)))
    if problems:
        failures.append(case)
        print("FAIL %s: %s\n  stderr: %s" % (case, "; ".join(problems), r.stderr.strip()[-600:]), flush=True)
    else:
        print("ok   %s (%d model/config bytes): %s" % (case, size, errors[0]), flush=True)


def png_header_only(w, h):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])
    np.zeros((1, 3, 32, 32), np.float32).tofile(path("x.bin"))

    # Resize by 3000x3000: 1x3x96000x96000 (2.8e10 elements, 110 GB of float32).
    m = save_model("resize_bomb.onnx", [helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest")], [x],
                   [numpy_helper.from_array(np.array([1, 1, 3000, 3000], np.float32), "scales")])
    expect_refused("Resize by 3000x (infer)", ["infer", "--model", m, "--input", "x.bin"], "Resize", "2^29 elements")
    expect_refused("Resize by 3000x (checker)", ["checker", "--model-type", "onnx", "--model", m, "--march", "generic"],
                   "Resize", "2^29 elements")

    # A declared input of 1x3x30000x30000.
    big = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 30000, 30000])
    m = save_model("declared_input.onnx", [helper.make_node("Relu", ["x"], ["y"], name="relu")], [big], [])
    expect_refused("declared 30000x30000 input", ["checker", "--model-type", "onnx", "--model", m, "--march", "generic"],
                   "relu", "2^29 elements")

    # Pad by 20000 on each side of both spatial axes: 1x3x40032x40032 (4.8e9 elements).
    m = save_model("pad_bomb.onnx", [helper.make_node("Pad", ["x", "pads"], ["y"], name="pad")], [x],
                   [numpy_helper.from_array(np.array([0, 0, 20000, 20000, 0, 0, 20000, 20000], np.int64), "pads")])
    expect_refused("Pad by 20000", ["infer", "--model", m, "--input", "x.bin"], "pad", "2^29 elements")

    # A weight initializer declared [65536, 65536] (16 GiB of float32) holding 8 bytes.
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[65536, 65536], raw_data=b"\0" * 8)
    xm = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 65536])
    m = save_model("huge_initializer.onnx", [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [xm], [w])
    expect_refused("initializer [65536, 65536] of 8 bytes", ["checker", "--model-type", "onnx", "--model", m,
                                                             "--march", "generic"], "'w'")

    # The same limit through a YAML input_shape: a small model, a huge declared shape.
    m = save_model("relu.onnx", [helper.make_node("Relu", ["x"], ["y"], name="relu")],
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])], [])
    with open(path("huge_shape.yaml"), "w") as f:
        f.write("model_parameters:\n  onnx_model: relu.onnx\n  march: generic\n  working_dir: out\n"
                "  output_model_file_prefix: relu\n"
                "input_parameters:\n  input_name: x\n  input_shape: 1x3x40000x40000\n  input_type_train: featuremap\n"
                "  input_type_rt: featuremap\n  input_layout_train: NCHW\n  norm_type: no_preprocess\n"
                "calibration_parameters:\n  calibration_type: skip\n")
    expect_refused("YAML input_shape 1x3x40000x40000", ["makertbin", "--model-type", "onnx", "--config",
                                                        "huge_shape.yaml"], "2^29 elements")
    if os.path.exists(path("out/relu.bin")):
        failures.append("makertbin wrote out/relu.bin")
        print("FAIL YAML input_shape: out/relu.bin was written")

    # Caffe: a prototxt whose input_dim declares 1x3x40000x40000.
    with open(path("huge.prototxt"), "w") as f:
        f.write('name: "huge"\ninput: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 40000\ninput_dim: 40000\n'
                'layer { name: "relu" type: "ReLU" bottom: "data" top: "relu" }\n')
    with open(path("huge.caffemodel"), "wb") as f:
        f.write(b"\x0a\x04huge")  # NetParameter { name: "huge" }: no weights, ReLU needs none
    expect_refused("Caffe input_dim 1x3x40000x40000", ["checker", "--model-type", "caffe", "--proto", "huge.prototxt",
                                                       "--model", "huge.caffemodel", "--march", "generic"],
                   "2^29 elements")

    # An image header claiming 60000x60000 pixels (a 100-byte PNG).
    os.makedirs(path("images"))
    with open(path("images/huge.png"), "wb") as f:
        f.write(png_header_only(60000, 60000))
    expect_refused("PNG header 60000x60000", ["preprocess", "--input-dir", "images", "--output-dir", "pre",
                                              "--resize", "32x32"], "huge.png", "60000x60000")

    # Within the per-tensor limit, over the process's memory: Resize 1x3x32x32 by 256x to
    # 1x3x8192x8192 (768 MiB of float32), then by 1.5x to 1x3x12288x12288 (1.7 GiB, under 2^29
    # elements): input and output of the second Resize do not fit in 2 GiB together. One line
    # saying so, exit 3.
    m = save_model("two_resizes.onnx",
                   [helper.make_node("Resize", ["x", "", "s1"], ["r"], mode="nearest", name="up1"),
                    helper.make_node("Resize", ["r", "", "s2"], ["y"], mode="nearest", name="up2")], [x],
                   [numpy_helper.from_array(np.array([1, 1, 256, 256], np.float32), "s1"),
                    numpy_helper.from_array(np.array([1, 1, 1.5, 1.5], np.float32), "s2")])
    expect_refused("768 MiB tensors under a 2 GiB limit", ["infer", "--model", m, "--input", "x.bin"], "out of memory")

    if failures:
        print("%d of the resource-limit cases failed: %s" % (len(failures), ", ".join(failures)))
        return 1
    print("all resource-limit cases refused cleanly under a %d MiB address-space limit" % (LIMIT >> 20))
    return 0


if __name__ == "__main__":
    sys.exit(main())
