#!/usr/bin/env python3
"""Writes normalize_net.onnx, the example model with a custom op (docs/custom-op.md):

    image (1x3x16x16, pixel values 0..255)
      -> qmap.example.Normalize (per position over the channels, one scale per channel)  -> output 'norm'
      -> Conv 3x3 (8) -> Relu -> GlobalAveragePool -> Flatten -> Gemm (4)               -> output 'logits'

Normalize is the plugin's op (normalize_op.cpp): its node is in the plugin's domain
'qmap.example', which the model imports at version 1. Weights come from a fixed seed, so the
file is the same on every run. Usage: make_model.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NORM_SCALE = np.array([2.0, 1.5, 1.0], np.float32)  # the Normalize layer's learned per-channel scale


def build():
    rng = np.random.default_rng(2026)
    w1 = rng.normal(0, 0.5, (8, 3, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, 8).astype(np.float32)
    w2 = rng.normal(0, 0.5, (4, 8)).astype(np.float32)
    b2 = np.zeros(4, np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(NORM_SCALE, "norm_scale"), (w1, "conv_w"), (b1, "conv_b"), (w2, "fc_w"), (b2, "fc_b")]]
    nodes = [
        helper.make_node("Normalize", ["image", "norm_scale"], ["norm"], name="norm", domain="qmap.example",
                         across_spatial=0, channel_shared=0, eps=1e-10),
        helper.make_node("Conv", ["norm", "conv_w", "conv_b"], ["conv"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
        helper.make_node("GlobalAveragePool", ["relu"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flat"),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "normalize_net",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 4]),
         helper.make_tensor_value_info("norm", TensorProto.FLOAT, [1, 3, 16, 16])],
        inits)
    return helper.make_model(graph, producer_name="qmap examples/custom_op",
                             opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("qmap.example", 1)])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_model.py OUT.onnx")
    onnx.save(build(), sys.argv[1])
