#!/usr/bin/python3
# How much finer asymmetric int8 would quantize a qmap model's signed activations.
#
# usage: bench/signed_range_check.py <prefix>_quantized_model.onnx <prefix>_debug.json
#   (the debug JSON from `qmap debug --config <makertbin yaml>`; Debian's python3 with
#   python3-onnx and python3-numpy)
#
# For every QuantizeLinear with an int8 output (a signed tensor, zero point 0, step T/127),
# the debug report's observed min/max clipped at the calibrated threshold T give the range an
# asymmetric int8 would cover, [max(min, -T), min(max, T)], with step (hi - lo) / 255. The
# ratio of the two steps is the resolution asymmetric quantization would gain (1.00: none).
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: signed_range_check.py <quantized model .onnx> <debug .json>")
    model = onnx.load(sys.argv[1])
    init = {i.name: i for i in model.graph.initializer}
    hist = {h["value"]: h for h in json.load(open(sys.argv[2]))["histograms"]}
    gains = []
    for n in model.graph.node:
        if n.op_type != "QuantizeLinear" or len(n.input) < 3 or n.input[2] not in init:
            continue
        if numpy_helper.to_array(init[n.input[2]]).dtype != np.int8 or n.input[0] not in hist:
            continue
        h = hist[n.input[0]]
        t = h["threshold"]
        lo, hi = min(max(h["min"], -t), 0.0), max(min(h["max"], t), 0.0)
        gain = (t / 127.0) / ((hi - lo) / 255.0)
        gains.append(gain)
        print(f"{n.input[0]:40s} min {h['min']:9.3f} max {h['max']:9.3f} T {t:8.3f}  asymmetric step {gain:.2f}x finer")
    if gains:
        print(f"{len(gains)} signed tensors; median gain {np.median(gains):.2f}x, max {max(gains):.2f}x")
    else:
        print("no signed int8 tensors with statistics")


if __name__ == "__main__":
    main()
