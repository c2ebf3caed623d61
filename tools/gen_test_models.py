#!/usr/bin/python3
"""Generate the small ONNX models committed under tests/data/models/.

Each model is a few KB, built with fixed seeds so re-running gives byte-identical
files, and exercises one whole-graph path of the importer and the float engine
(see tests/data/models/README.md for what each covers). tests/ort/ runs them through
ONNX Runtime and qmap's FloatEngine and compares.

Most are built node by node with onnx.helper so the graph is exactly the ONNX form we
want to test (a BatchNormalization node stays a node; an old-opset Clip keeps its old
form). One is exported from PyTorch on purpose, for the Shape/Gather/Unsqueeze/Concat/
Reshape pattern torch.onnx.export emits for x.view(x.size(0), -1).

usage (Debian's interpreter; needs python3-onnx python3-numpy, and python3-torch for
torch_flatten.onnx):
  /usr/bin/python3 tools/gen_test_models.py [--out DIR] [NAME ...]
DIR defaults to <repo>/tests/data/models. Files are always rewritten.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
F = TensorProto.FLOAT


class Builder:
    """Collects nodes and initializers; weights come from one seeded generator per model."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes = []
        self.inits = []
        self.count = {}

    def name(self, op):
        i = self.count.get(op, 0)
        self.count[op] = i + 1
        return f"{op.lower()}{i}"

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, name, shape, fan_in):
        # He-uniform: keeps activations at a similar scale through ReLU layers.
        bound = np.sqrt(6.0 / fan_in)
        return self.const(name, self.rng.uniform(-bound, bound, shape).astype(np.float32))

    def node(self, op, inputs, n_out=1, **attrs):
        nm = self.name(op)
        outs = [f"{nm}_out{i}" if n_out > 1 else f"{nm}_out" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=nm, **attrs))
        return outs if n_out > 1 else outs[0]

    def conv(self, x, cin, cout, k, stride=1, pad=None, group=1, bias=True):
        nm = f"w{len(self.inits)}"
        pad = k // 2 if pad is None else pad
        w = self.weight(nm, (cout, cin // group, k, k), cin // group * k * k)
        ins = [x, w]
        if bias:
            ins.append(self.const(nm + "_b", self.rng.uniform(-0.1, 0.1, cout).astype(np.float32)))
        return self.node("Conv", ins, kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad] * 4, group=group)

    def bn(self, x, c):
        # Realistic running statistics: non-zero means, variances around 1, gamma near 1.
        nm = f"bn{len(self.inits)}"
        r = self.rng
        scale = self.const(nm + "_scale", r.uniform(0.5, 1.5, c).astype(np.float32))
        bias = self.const(nm + "_bias", r.uniform(-0.3, 0.3, c).astype(np.float32))
        mean = self.const(nm + "_mean", r.uniform(-0.5, 0.5, c).astype(np.float32))
        var = self.const(nm + "_var", r.uniform(0.5, 2.0, c).astype(np.float32))
        return self.node("BatchNormalization", [x, scale, bias, mean, var], epsilon=1e-5)

    def model(self, name, inputs, outputs, opset, doc):
        graph = helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="qmap tools/gen_test_models.py", doc_string=doc)
        # ir_version 8 is what onnx 1.12 writes for opset 17; ORT 1.30 and libonnx read it.
        m.ir_version = min(m.ir_version, 8)
        return m


def vi(name, shape, dtype=F):
    return helper.make_tensor_value_info(name, dtype, shape)


def tiny_cnn():
    b = Builder(101)
    x = "input"
    y = b.conv(x, 3, 8, 3, bias=False)
    y = b.bn(y, 8)
    y = b.node("Relu", [y])
    y = b.node("MaxPool", [y], kernel_shape=[2, 2], strides=[2, 2])       # 16 -> 8
    y = b.conv(y, 8, 8, 3, group=8)                                         # depthwise
    y = b.node("Clip", [y, b.const("relu6_min", np.float32(0)), b.const("relu6_max", np.float32(6))])
    y = b.conv(y, 8, 16, 1)
    y = b.node("Relu", [y])
    y = b.node("GlobalAveragePool", [y])
    y = b.node("Flatten", [y], axis=1)
    w = b.weight("fc_w", (10, 16), 16)
    y = b.node("Gemm", [y, w, b.const("fc_b", b.rng.uniform(-0.1, 0.1, 10).astype(np.float32))],
               transB=1)
    b.nodes.append(helper.make_node("Softmax", [y], ["output"], name="softmax", axis=1))
    return b.model("tiny_cnn", [vi("input", [1, 3, 16, 16])], [vi("output", [1, 10])], 13,
                   "Conv+BN+Relu+MaxPool+depthwise Conv+Clip(ReLU6)+GAP+Flatten+Gemm+Softmax")


def residual_block():
    b = Builder(102)
    x = "input"
    stem = b.node("Relu", [b.bn(b.conv(x, 4, 4, 3, bias=False), 4)])
    y = b.node("Relu", [b.bn(b.conv(stem, 4, 4, 3, bias=False), 4)])
    y = b.bn(b.conv(y, 4, 4, 3, bias=False), 4)
    y = b.node("Add", [y, stem])                                            # identity shortcut
    y = b.node("Relu", [y])
    # Downsampling block: strided 3x3 main path, strided 1x1 projection shortcut.
    m = b.node("Relu", [b.bn(b.conv(y, 4, 8, 3, stride=2, bias=False), 8)])
    m = b.bn(b.conv(m, 8, 8, 3, bias=False), 8)
    s = b.bn(b.conv(y, 4, 8, 1, stride=2, pad=0, bias=False), 8)
    b.nodes.append(helper.make_node("Add", [m, s], ["sum"], name="add_proj"))
    b.nodes.append(helper.make_node("Relu", ["sum"], ["output"], name="relu_out"))
    return b.model("residual_block", [vi("input", [1, 4, 12, 12])], [vi("output", [1, 8, 6, 6])],
                   13, "ResNet basic blocks: identity Add and strided projection shortcut")


def shuffle_block():
    b = Builder(103)
    x = "input"                                                             # [1,16,8,8]
    left, right = b.node("Split", [x, b.const("split", np.array([8, 8], np.int64))], n_out=2,
                         axis=1)
    r = b.node("Relu", [b.bn(b.conv(right, 8, 8, 1, pad=0, bias=False), 8)])
    r = b.bn(b.conv(r, 8, 8, 3, group=8, bias=False), 8)
    r = b.node("Relu", [b.bn(b.conv(r, 8, 8, 1, pad=0, bias=False), 8)])
    y = b.node("Concat", [left, r], axis=1)
    # Channel shuffle with 2 groups: [1,16,8,8] -> [1,2,8,8,8] -> swap -> [1,16,8,8]
    y = b.node("Reshape", [y, b.const("shape5", np.array([1, 2, 8, 8, 8], np.int64))])
    y = b.node("Transpose", [y], perm=[0, 2, 1, 3, 4])
    y = b.node("Reshape", [y, b.const("shape4", np.array([1, -1, 8, 8], np.int64))])
    # An NCHW -> NHWC transpose at the output, as a post-processing head would do.
    b.nodes.append(helper.make_node("Transpose", [y], ["output"], name="to_nhwc", perm=[0, 2, 3, 1]))
    return b.model("shuffle_block", [vi("input", [1, 16, 8, 8])], [vi("output", [1, 8, 8, 16])],
                   13, "ShuffleNetV2 unit: Split, branch, Concat, Reshape/Transpose channel shuffle")


def fpn_block():
    b = Builder(104)
    x = "input"                                                             # [1,4,16,16]
    c1 = b.node("Relu", [b.conv(x, 4, 8, 3, stride=2)])                    # [1,8,8,8]
    c2 = b.node("Relu", [b.conv(c1, 8, 8, 3, stride=2)])                   # [1,8,4,4]
    empty = b.const("roi_empty", np.zeros(0, np.float32))
    # Top-down: nearest x2 (torch-style asymmetric/floor), lateral 1x1, Add.
    up = b.node("Resize", [c2, empty, b.const("scales2", np.array([1, 1, 2, 2], np.float32))],
                mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    p1 = b.node("Add", [up, b.conv(c1, 8, 8, 1, pad=0)])                  # [1,8,8,8]
    # Bilinear by explicit sizes, half_pixel (Resize-13 default), back to input resolution.
    up2 = b.node("Resize", [p1, empty, b.const("scales_none", np.zeros(0, np.float32)),
                            b.const("sizes16", np.array([1, 8, 16, 16], np.int64))],
                 mode="linear", coordinate_transformation_mode="half_pixel")
    y = b.node("Concat", [up2, x], axis=1)                                  # [1,12,16,16]
    # Constant Pad by one on H and W (value 0.5), then Slice with steps and a negative end.
    y = b.node("Pad", [y, b.const("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
                       b.const("pad_value", np.float32(0.5))], mode="constant")   # [1,12,18,18]
    y = b.node("Slice", [y, b.const("starts", np.array([1, 0, 0], np.int64)),
                         b.const("ends", np.array([-1, 17, 18], np.int64)),
                         b.const("axes", np.array([1, 2, 3], np.int64)),
                         b.const("steps", np.array([1, 1, 2], np.int64))])   # [1,10,17,9]
    b.nodes.append(helper.make_node("Conv", [y, b.weight("head_w", (4, 10, 3, 3), 90)],
                                    ["output"], name="head", kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    return b.model("fpn_block", [vi("input", [1, 4, 16, 16])], [vi("output", [1, 4, 17, 9])], 13,
                   "FPN-like: strided Conv, Resize nearest x2 and linear to size, Add, Concat, Pad, Slice")


def se_block():
    b = Builder(105)
    x = "input"                                                             # [1,8,8,8]
    y = b.node("HardSwish", [b.bn(b.conv(x, 8, 16, 1, pad=0, bias=False), 16)])
    y = b.node("HardSwish", [b.bn(b.conv(y, 16, 16, 3, group=16, bias=False), 16)])
    # Squeeze-and-excitation (MobileNetV3): ReduceMean, 1x1, Relu, 1x1, HardSigmoid, Mul.
    s = b.node("ReduceMean", [y], axes=[2, 3], keepdims=1)
    s = b.node("Relu", [b.conv(s, 16, 4, 1, pad=0)])
    s = b.node("HardSigmoid", [b.conv(s, 4, 16, 1, pad=0)], alpha=1.0 / 6, beta=0.5)
    y = b.node("Mul", [y, s])
    # SiLU-style gate with Sigmoid, then a channel-mean head without keepdims.
    g = b.node("Sigmoid", [b.conv(y, 16, 8, 1, pad=0)])
    y = b.node("Mul", [g, b.conv(y, 16, 8, 1, pad=0)])
    b.nodes.append(helper.make_node("ReduceMean", [y], ["output"], name="head_mean", axes=[1],
                                    keepdims=0))
    return b.model("se_block", [vi("input", [1, 8, 8, 8])], [vi("output", [1, 8, 8])], 17,
                   "MobileNetV3 pieces: HardSwish, SE (ReduceMean, HardSigmoid, Mul), Sigmoid gate")


def clip_opset11():
    # Opset 11: Clip takes min/max as optional inputs (one omitted here), Resize-11 has roi.
    b = Builder(106)
    y = b.node("Clip", [b.conv("input", 3, 8, 3), b.const("clip_min", np.float32(-1.0))])  # min only
    y = b.node("Clip", [b.conv(y, 8, 8, 3), "", b.const("clip_max", np.float32(0.75))])    # max only
    y = b.node("Clip", [b.conv(y, 8, 8, 1, pad=0), b.const("c_lo", np.float32(0)),
                        b.const("c_hi", np.float32(6))])
    b.nodes.append(helper.make_node("Flatten", [y], ["output"], name="flatten", axis=1))
    return b.model("clip_opset11", [vi("input", [1, 3, 8, 8])], [vi("output", [1, 512])], 11,
                   "Opset 11 Clip with min and/or max given as inputs")


def upsample_opset9():
    # Opset 9: Upsample with scales as an input (Upsample is deprecated from opset 10),
    # Clip-6 with min/max attributes, BatchNormalization-9.
    b = Builder(107)
    y = b.node("Clip", [b.bn(b.conv("input", 3, 8, 3), 8)], min=0.0, max=6.0)
    y = b.node("Upsample", [y, b.const("up_scales", np.array([1, 1, 2, 2], np.float32))],
               mode="nearest")
    y = b.node("Relu", [b.conv(y, 8, 8, 3)])
    y = b.node("Upsample", [y, b.const("up_scales_lin", np.array([1, 1, 2, 2], np.float32))],
               mode="linear")
    b.nodes.append(helper.make_node("Clip", [b.conv(y, 8, 4, 1, pad=0)], ["output"], name="clip_out",
                                    min=-2.0, max=2.0))
    return b.model("upsample_opset9", [vi("input", [1, 3, 6, 6])], [vi("output", [1, 4, 24, 24])], 9,
                   "Opset 9 Upsample (nearest, linear), Clip-6 attributes, BatchNormalization-9")


def external_data():
    b = Builder(108)
    y = b.node("Relu", [b.conv("input", 3, 8, 3)])
    y = b.node("Relu", [b.conv(y, 8, 8, 3)])
    y = b.node("GlobalAveragePool", [y])
    y = b.node("Flatten", [y])
    b.nodes.append(helper.make_node("Gemm", [y, b.weight("fc_w", (8, 10), 8),
                                             b.const("fc_b", np.zeros(10, np.float32))],
                                    ["output"], name="fc"))
    return b.model("external_data", [vi("input", [1, 3, 10, 10])], [vi("output", [1, 10])], 17,
                   "Weights stored as external data in external_data.onnx.data")


def torch_flatten(path):
    try:
        import torch
    except ImportError:
        sys.exit("gen_test_models: torch_flatten.onnx needs python3-torch (/usr/bin/python3)")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 6, 3, padding=1)
            self.pool = torch.nn.MaxPool2d(2)
            self.fc = torch.nn.Linear(6 * 4 * 4, 5)

        def forward(self, x):
            x = self.pool(torch.relu(self.conv(x)))
            x = x.view(x.size(0), -1)   # exported as Shape/Gather/Unsqueeze/Concat/Reshape
            return self.fc(x)

    torch.manual_seed(109)
    net = Net().eval()
    x = torch.zeros(1, 3, 8, 8)
    # Dynamic batch keeps the Shape->Reshape chain in the graph (a static shape would be
    # folded to a constant); the importer defaults the symbolic batch to 1.
    torch.onnx.export(net, x, path, opset_version=13, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      do_constant_folding=True)
    m = onnx.load(path)
    m.producer_name = "pytorch (via qmap tools/gen_test_models.py)"
    m.doc_string = "torch x.view(x.size(0), -1): Shape/Gather/Unsqueeze/Concat/Reshape"
    return m


BUILDERS = {
    "tiny_cnn": tiny_cnn,
    "residual_block": residual_block,
    "shuffle_block": shuffle_block,
    "fpn_block": fpn_block,
    "se_block": se_block,
    "torch_flatten": None,
    "clip_opset11": clip_opset11,
    "upsample_opset9": upsample_opset9,
    "external_data": external_data,
}


def save(m, path, external=False):
    onnx.checker.check_model(m)
    onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
    if external:
        data = os.path.basename(path) + ".data"
        if os.path.exists(os.path.join(os.path.dirname(path), data)):
            os.remove(os.path.join(os.path.dirname(path), data))   # onnx appends otherwise
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=data, size_threshold=0)
        onnx.checker.check_model(path)
    else:
        onnx.save_model(m, path)
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    size = os.path.getsize(path)
    if external:
        size += os.path.getsize(path + ".data")
    print(f"{os.path.basename(path)}: {size} bytes; ops: {' '.join(ops)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "models"))
    ap.add_argument("names", nargs="*", help=f"subset of: {' '.join(BUILDERS)}")
    args = ap.parse_args()
    bad = [n for n in args.names if n not in BUILDERS]
    if bad:
        ap.error(f"unknown model(s) {bad}: choose from {list(BUILDERS)}")
    os.makedirs(args.out, exist_ok=True)
    for name in args.names or BUILDERS:
        path = os.path.join(args.out, name + ".onnx")
        if name == "torch_flatten":
            m = torch_flatten(path)
        else:
            m = BUILDERS[name]()
        save(m, path, external=(name == "external_data"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
