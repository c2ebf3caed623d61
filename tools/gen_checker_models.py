#!/usr/bin/python3
"""Writes the small ONNX models the `qmap checker` end-to-end tests use (tests/data/checker/).

Run with Debian's interpreter, which has python3-onnx and numpy:
    /usr/bin/python3 tools/gen_checker_models.py
The output is deterministic (fixed seed, fixed names), so re-running it must not change the
committed files; the tests (tests/e2e/checker_e2e_test.cpp) say what each model checks.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "checker")
RNG = np.random.default_rng(1234)
OPSET = 13


def weight(name, shape):
    return numpy_helper.from_array((RNG.standard_normal(shape) * 0.1).astype(np.float32), name)


def conv(name, x, y, cin, cout, k, pad, inits):
    inits.append(weight(name + "_w", [cout, cin, k, k]))
    inits.append(weight(name + "_b", [cout]))
    return helper.make_node("Conv", [x, name + "_w", name + "_b"], [y], name=name,
                            kernel_shape=[k, k], pads=[pad] * 4)


def save(graph, file):
    model = helper.make_model(graph, producer_name="qmap-gen-checker-models",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    path = os.path.join(OUT, file)
    onnx.save(model, path)
    print("wrote", os.path.relpath(path))


def conv9x9():
    """conv1 -> relu1 -> conv_big (9x9: CPU, `kernel 9x9 > 7x7`) -> relu2 -> conv3: the CPU node
    splits the NPU nodes into id(0) and id(1)."""
    inits = []
    nodes = [
        conv("conv1", "x", "c1", 3, 8, 3, 1, inits),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        conv("conv_big", "r1", "c2", 8, 8, 9, 4, inits),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        conv("conv3", "r2", "y", 8, 4, 3, 1, inits),
    ]
    g = helper.make_graph(nodes, "conv9x9",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 32, 32])], inits)
    save(g, "conv9x9.onnx")


def unknown_ops():
    """NonMaxSuppression and TopK: qmap defines neither; one ERROR line names both."""
    k = numpy_helper.from_array(np.array([5], dtype=np.int64), "k")
    nodes = [
        helper.make_node("Relu", ["scores"], ["s"], name="relu"),
        helper.make_node("TopK", ["s", "k"], ["top_v", "top_i"], name="topk", axis=-1),
        helper.make_node("NonMaxSuppression", ["boxes", "s"], ["selected"], name="nms"),
    ]
    g = helper.make_graph(nodes, "unknown_ops",
                          [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 20, 4]),
                           helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 1, 20])],
                          [helper.make_tensor_value_info("top_v", TensorProto.FLOAT, [1, 1, 5]),
                           helper.make_tensor_value_info("selected", TensorProto.INT64, [None, 3])], [k])
    save(g, "unknown_ops.onnx")


def dynamic(file, shape, out_shape):
    """One Relu on an input with symbolic dimensions."""
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], file[:-5],
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)])
    save(g, file)


def folded_chain():
    """conv -> Shape -> Gather -> Unsqueeze -> Concat -> Reshape(conv) -> Identity -> Softmax.
    The shape arithmetic is constant after shape inference (folded), Identity is removed,
    Softmax is CPU-only on generic."""
    inits = [numpy_helper.from_array(np.array(0, dtype=np.int64), "idx0"),
             numpy_helper.from_array(np.array([0], dtype=np.int64), "axes0"),
             numpy_helper.from_array(np.array([-1], dtype=np.int64), "minus1")]
    nodes = [
        conv("conv", "x", "c", 3, 8, 1, 0, inits),
        helper.make_node("Shape", ["c"], ["shp"], name="shape"),
        helper.make_node("Gather", ["shp", "idx0"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="unsqueeze"),
        helper.make_node("Concat", ["n1", "minus1"], ["new_shape"], name="concat", axis=0),
        helper.make_node("Reshape", ["c", "new_shape"], ["flat"], name="reshape"),
        helper.make_node("Identity", ["flat"], ["flat_id"], name="identity"),
        helper.make_node("Softmax", ["flat_id"], ["y"], name="softmax", axis=1),
    ]
    g = helper.make_graph(nodes, "folded_chain",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 128])], inits)
    save(g, "folded_chain.onnx")


def main():
    os.makedirs(OUT, exist_ok=True)
    conv9x9()
    unknown_ops()
    dynamic("dynamic_h.onnx", [1, 3, "H", 16], [1, 3, "H", 16])
    dynamic("dynamic_batch.onnx", ["N", 3, 16, 16], ["N", 3, 16, 16])
    folded_chain()
    return 0


if __name__ == "__main__":
    sys.exit(main())
