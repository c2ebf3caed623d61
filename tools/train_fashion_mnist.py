#!/usr/bin/python3
"""Trains the demo's Fashion-MNIST classifier and exports it as ONNX and as Caffe.

The network is the kind of small CNN an NPU toolchain meets in practice:

  image 1x1x28x28 (float, (pixel/255 - 0.2860) / 0.3530)
  conv1 3x3 1->16 + BatchNorm + ReLU               28x28
  pool1 MaxPool 2x2 /2                              14x14
  conv2 3x3 /2 16->64 + BatchNorm + ReLU  ----+    7x7
  dw    3x3 depthwise 64 + BatchNorm + ReLU    |
  pw    1x1 64->64 + BatchNorm                 |
  add   residual Add  <------------------------+
  gap   GlobalAveragePool, flatten, fc Linear 64->10, prob Softmax

ReLU stands where a mobile network would put ReLU6, because Caffe has no ReLU6 layer and
the ONNX and Caffe files must hold the same network. Both files are written from one
layer list (LAYERS below), which also drives the PyTorch model, so the three agree by
construction; the script then checks it numerically: a small numpy interpreter re-reads
each written file and recomputes 100 test images in float64, compared with PyTorch.

Data: Debian's `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist/*.gz, IDX
files), 60k train / 10k test. Training is deterministic (fixed seeds, deterministic
algorithms, 2 threads); at a fixed thread count reruns give the same weights and files.

Outputs (default examples/fashion_mnist/model/):
  fashion_cnn.onnx                       opset 13, BatchNorm kept (qmap folds it), input `image`
                                         1x1x28x28, output `prob` 1x10
  fashion_cnn.prototxt, .caffemodel      the same network in Caffe (written with qmap's own
                                         schema src/import/caffe/caffe.proto)
  labels.txt                             the 10 class names in index order

Usage: /usr/bin/python3 tools/train_fashion_mnist.py [--epochs N] [--out-dir DIR] [--data-dir DIR]
(needs Debian's python3-torch, python3-numpy, python3-onnx, python3-protobuf and
protobuf-compiler).
"""
import argparse
import atexit
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

# OpenMP threads that spin while waiting make training 4-8x slower when the 2 cores are
# shared with other work (measured on the loaded development machine: 360-660 ms per
# training step spinning, 43-83 ms passive). Passive waiting changes scheduling only, never
# the numbers. Must be set before torch loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from fashion_mnist_images import CLASS_NAMES, DEFAULT_DATA_DIR, DataError, load_split  # noqa: E402

# Fashion-MNIST pixel statistics over the train split, on the 0..1 scale.
MEAN = 0.2860
STD = 0.3530
# The same normalization on raw 0..255 pixels, in hb_mapper's data_mean_and_scale form:
# (pixel - mean_value) * scale_value == (pixel / 255 - MEAN) / STD.
MEAN_VALUE = MEAN * 255.0            # 72.93
SCALE_VALUE = 1.0 / (STD * 255.0)    # 1 / 90.015

SEED = 20261125
THREADS = 2
C1, C2 = 16, 64   # channel widths
BN_EPS = 1e-5     # PyTorch's default; written into both files

# The network, once. Each entry: (name, kind, inputs, params). Names become the ONNX node
# and tensor names and the Caffe layer names, so checker tables of both files line up.
LAYERS = [
    ("conv1", "conv", ["image"], dict(cin=1, cout=C1, k=3, stride=1, group=1)),
    ("conv1_bn", "bn", ["conv1"], dict(c=C1)),
    ("conv1_relu", "relu", ["conv1_bn"], {}),
    ("pool1", "maxpool", ["conv1_relu"], dict(k=2, stride=2)),
    ("conv2", "conv", ["pool1"], dict(cin=C1, cout=C2, k=3, stride=2, group=1)),
    ("conv2_bn", "bn", ["conv2"], dict(c=C2)),
    ("conv2_relu", "relu", ["conv2_bn"], {}),
    ("dw", "conv", ["conv2_relu"], dict(cin=C2, cout=C2, k=3, stride=1, group=C2)),
    ("dw_bn", "bn", ["dw"], dict(c=C2)),
    ("dw_relu", "relu", ["dw_bn"], {}),
    ("pw", "conv", ["dw_relu"], dict(cin=C2, cout=C2, k=1, stride=1, group=1)),
    ("pw_bn", "bn", ["pw"], dict(c=C2)),
    ("add", "add", ["conv2_relu", "pw_bn"], {}),
    ("gap", "gap", ["add"], {}),
    ("flatten", "flatten", ["gap"], {}),
    ("fc", "fc", ["flatten"], dict(cin=C2, cout=10)),
    ("prob", "softmax", ["fc"], {}),
]
INPUT_NAME, OUTPUT_NAME = "image", "prob"
INPUT_SHAPE = [1, 1, 28, 28]


# ------------------------------------------------------------------ PyTorch model

class FashionCNN(nn.Module):
    """Runs LAYERS. forward() returns the logits (`fc`); `prob` is softmax of them."""

    def __init__(self):
        super().__init__()
        self.mods = nn.ModuleDict()
        for name, kind, _, p in LAYERS:
            if kind == "conv":
                self.mods[name] = nn.Conv2d(p["cin"], p["cout"], p["k"], p["stride"], p["k"] // 2,
                                            groups=p["group"], bias=False)  # the BN after it has the bias
            elif kind == "bn":
                self.mods[name] = nn.BatchNorm2d(p["c"], eps=BN_EPS)
            elif kind == "fc":
                self.mods[name] = nn.Linear(p["cin"], p["cout"])

    def forward(self, x, upto="fc"):
        v = {INPUT_NAME: x}
        for name, kind, ins, p in LAYERS:
            a = [v[i] for i in ins]
            if kind in ("conv", "bn", "fc"):
                y = self.mods[name](a[0])
            elif kind == "relu":
                y = F.relu(a[0])
            elif kind == "maxpool":
                y = F.max_pool2d(a[0], p["k"], p["stride"])
            elif kind == "add":
                y = a[0] + a[1]
            elif kind == "gap":
                y = a[0].mean(dim=(2, 3), keepdim=True)
            elif kind == "flatten":
                y = torch.flatten(a[0], 1)
            elif kind == "softmax":
                y = torch.softmax(a[0], dim=1)
            else:
                raise AssertionError(kind)
            v[name] = y
            if name == upto:
                return y
        raise AssertionError(upto)


def set_determinism():
    torch.set_num_threads(THREADS)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    random.seed(SEED)
    torch.use_deterministic_algorithms(True)


def to_input(images_u8):
    """uint8 N x 28 x 28 -> normalized float32 N x 1 x 28 x 28 (the model's input)."""
    x = torch.from_numpy(images_u8.astype(np.float32) / 255.0)
    return ((x - MEAN) / STD).unsqueeze(1)


def top1(model, x, y, batch=1000):
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])
    return (pred == y).double().mean().item()


def train(model, x, y, epochs, batch=128, lr=0.1):
    """SGD with Nesterov momentum, weight decay 5e-4, a one-cycle learning rate (peak `lr`).

    No augmentation: in 10 epochs this small network underfits rather than overfits (random
    horizontal flips cost about 0.4 points in trial runs). The shuffling comes from a seeded
    generator, so the run is reproducible.
    """
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps_per_epoch = (len(x) + batch - 1) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch)
    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(x), generator=gen)
        total, seen = 0.0, 0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        print(f"  epoch {epoch + 1}/{epochs}: loss {total / seen:.4f} ({time.time() - t0:.1f} s)", flush=True)


def weights(model):
    """name -> dict of float32 numpy arrays, the parameters of each LAYERS entry."""
    out = {}
    for name, kind, _, _ in LAYERS:
        m = model.mods[name] if name in model.mods else None
        if kind == "conv":
            out[name] = dict(w=m.weight.detach().numpy().copy())
        elif kind == "bn":
            out[name] = dict(gamma=m.weight.detach().numpy().copy(), beta=m.bias.detach().numpy().copy(),
                             mean=m.running_mean.numpy().copy(), var=m.running_var.numpy().copy())
        elif kind == "fc":
            out[name] = dict(w=m.weight.detach().numpy().copy(), b=m.bias.detach().numpy().copy())
    return out


# ------------------------------------------------------------------ writers

def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def onnx_model_bytes(w, doc):
    """The network as an ONNX opset-13 model, built node by node from LAYERS."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    for name, kind, ins, p in LAYERS:
        out = [name]
        if kind == "conv":
            pad = p["k"] // 2
            nodes.append(helper.make_node("Conv", ins + [init(f"{name}.weight", w[name]["w"])], out, name=name,
                                          kernel_shape=[p["k"], p["k"]], strides=[p["stride"]] * 2,
                                          pads=[pad] * 4, dilations=[1, 1], group=p["group"]))
        elif kind == "bn":
            b = w[name]
            nodes.append(helper.make_node(
                "BatchNormalization",
                ins + [init(f"{name}.scale", b["gamma"]), init(f"{name}.bias", b["beta"]),
                       init(f"{name}.mean", b["mean"]), init(f"{name}.var", b["var"])],
                out, name=name, epsilon=BN_EPS, momentum=0.9))
        elif kind == "relu":
            nodes.append(helper.make_node("Relu", ins, out, name=name))
        elif kind == "maxpool":
            nodes.append(helper.make_node("MaxPool", ins, out, name=name, kernel_shape=[p["k"]] * 2,
                                          strides=[p["stride"]] * 2, pads=[0] * 4))
        elif kind == "add":
            nodes.append(helper.make_node("Add", ins, out, name=name))
        elif kind == "gap":
            nodes.append(helper.make_node("GlobalAveragePool", ins, out, name=name))
        elif kind == "flatten":
            nodes.append(helper.make_node("Flatten", ins, out, name=name, axis=1))
        elif kind == "fc":
            nodes.append(helper.make_node("Gemm", ins + [init(f"{name}.weight", w[name]["w"]),
                                                         init(f"{name}.bias", w[name]["b"])],
                                          out, name=name, alpha=1.0, beta=1.0, transB=1))
        elif kind == "softmax":
            nodes.append(helper.make_node("Softmax", ins, out, name=name, axis=1))
        else:
            raise AssertionError(kind)
    graph = helper.make_graph(
        nodes, "fashion_cnn",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, INPUT_SHAPE)],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [1, 10])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="qmap tools/train_fashion_mnist.py", doc_string=doc)
    model.ir_version = 7  # the IR version of opset 13 (ONNX 1.8)
    onnx.checker.check_model(model, full_check=True)  # also runs strict shape inference
    return model.SerializeToString()


def load_caffe_schema():
    """Compiles qmap's caffe.proto with protoc into a temporary folder and imports it."""
    tmp = tempfile.mkdtemp(prefix="qmap_caffe_pb_")
    atexit.register(shutil.rmtree, tmp, True)
    proto_dir = os.path.join(ROOT, "src", "import", "caffe")
    subprocess.check_call(["protoc", f"--python_out={tmp}", f"-I{proto_dir}",
                           os.path.join(proto_dir, "caffe.proto")])
    sys.path.insert(0, tmp)
    import caffe_pb2
    return caffe_pb2


def caffe_bytes(pb, w):
    """(prototxt text, caffemodel bytes): the same network in Caffe's deploy form.

    Caffe idioms: BatchNorm (statistics, scale_factor blob 1) + Scale (gamma, beta), BatchNorm,
    Scale and ReLU in place on the convolution's top; InnerProduct flattens by itself, so
    `flatten` has no layer; global average pooling is Pooling AVE with global_pooling.
    """
    from google.protobuf import text_format

    proto = pb.NetParameter(name="fashion_cnn")
    model = pb.NetParameter(name="fashion_cnn")
    top_of = {INPUT_NAME: INPUT_NAME}  # LAYERS value name -> Caffe blob name

    def blob(arr):
        b = pb.BlobProto()
        b.shape.dim.extend(arr.shape)
        b.data.extend(np.asarray(arr, dtype=np.float32).ravel().tolist())
        return b

    def add(name, type_, bottoms, top, blobs=(), **params):
        for net, with_blobs in ((proto, False), (model, True)):
            lp = net.layer.add(name=name, type=type_)
            lp.bottom.extend(bottoms)
            lp.top.append(top)
            for field, value in params.items():
                getattr(lp, field).CopyFrom(value)
            if with_blobs:
                lp.blobs.extend(blob(a) for a in blobs)

    add(INPUT_NAME, "Input", [], INPUT_NAME, input_param=pb.InputParameter(shape=[pb.BlobShape(dim=INPUT_SHAPE)]))
    for name, kind, ins, p in LAYERS:
        bottoms = [top_of[i] for i in ins]
        if kind == "conv":
            cp = pb.ConvolutionParameter(num_output=p["cout"], bias_term=False, kernel_size=[p["k"]],
                                         stride=[p["stride"]], pad=[p["k"] // 2])
            if p["group"] != 1:
                cp.group = p["group"]
            add(name, "Convolution", bottoms, name, [w[name]["w"]], convolution_param=cp)
            top_of[name] = name
        elif kind == "bn":
            b = w[name]
            add(name, "BatchNorm", bottoms, bottoms[0], [b["mean"], b["var"], np.ones(1, np.float32)],
                batch_norm_param=pb.BatchNormParameter(use_global_stats=True, eps=BN_EPS))
            scale_name = name.replace("_bn", "_scale")
            add(scale_name, "Scale", bottoms, bottoms[0], [b["gamma"], b["beta"]],
                scale_param=pb.ScaleParameter(bias_term=True))
            top_of[name] = bottoms[0]
        elif kind == "relu":
            add(name, "ReLU", bottoms, bottoms[0])
            top_of[name] = bottoms[0]
        elif kind == "maxpool":
            add(name, "Pooling", bottoms, name, pooling_param=pb.PoolingParameter(
                pool=pb.PoolingParameter.MAX, kernel_size=p["k"], stride=p["stride"]))
            top_of[name] = name
        elif kind == "add":
            add(name, "Eltwise", bottoms, name,
                eltwise_param=pb.EltwiseParameter(operation=pb.EltwiseParameter.SUM))
            top_of[name] = name
        elif kind == "gap":
            add(name, "Pooling", bottoms, name, pooling_param=pb.PoolingParameter(
                pool=pb.PoolingParameter.AVE, global_pooling=True))
            top_of[name] = name
        elif kind == "flatten":
            top_of[name] = bottoms[0]
        elif kind == "fc":
            add(name, "InnerProduct", bottoms, name, [w[name]["w"], w[name]["b"]],
                inner_product_param=pb.InnerProductParameter(num_output=p["cout"]))
            top_of[name] = name
        elif kind == "softmax":
            add(name, "Softmax", bottoms, name)
            top_of[name] = name
        else:
            raise AssertionError(kind)
    return text_format.MessageToString(proto), model.SerializeToString()


# ------------------------------------------------------------------ numpy re-readers (the check)
# Independent of PyTorch: float64 numpy kernels, driven only by what the written files say.

def np_conv(x, w, b, stride, pad, group):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    assert c == cg * group and o % group == 0, (x.shape, w.shape, group)
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[2]), (pad[1], pad[3])))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride[0], ::stride[1]]
    ho, wo = win.shape[2], win.shape[3]
    win = win.reshape(n, group, cg, ho, wo, kh, kw)
    y = np.einsum("ngchwij,gocij->ngohw", win, w.reshape(group, o // group, cg, kh, kw).astype(np.float64))
    y = y.reshape(n, o, ho, wo)
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def np_maxpool(x, k, stride, pad, ceil):
    """Max pooling; `ceil`: Caffe's output size (ceil, last window must start inside input + pad)."""
    h, wd = x.shape[2:]
    sizes = []
    for d, kk, s, p in ((h, k[0], stride[0], pad[0]), (wd, k[1], stride[1], pad[1])):
        if ceil:
            o = -(-(d + 2 * p - kk) // s) + 1
            if p and (o - 1) * s >= d + p:
                o -= 1
        else:
            o = (d + 2 * p - kk) // s + 1
        sizes.append(o)
    need_h = (sizes[0] - 1) * stride[0] + k[0] - h - pad[0]
    need_w = (sizes[1] - 1) * stride[1] + k[1] - wd - pad[1]
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], max(need_h, 0)), (pad[1], max(need_w, 0))), constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(xp, tuple(k), axis=(2, 3))[:, :, ::stride[0], ::stride[1]]
    return win[:, :, :sizes[0], :sizes[1]].max(axis=(4, 5))


def np_softmax(x, axis=1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def run_onnx_numpy(path, x):
    """Interprets the ONNX file for the ops it uses; returns {tensor name: float64 array}."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    g = m.graph
    v = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in g.initializer}
    v[g.input[0].name] = x.astype(np.float64)
    for node in g.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        ins = [v[i] for i in node.input]
        op = node.op_type
        if op == "Conv":
            y = np_conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a.get("strides", [1, 1]),
                        a.get("pads", [0] * 4), a.get("group", 1))
        elif op == "BatchNormalization":
            xx, sc, bi, mu, var = ins
            r = lambda t: t.reshape(1, -1, 1, 1)  # noqa: E731
            y = (xx - r(mu)) / np.sqrt(r(var) + np.float64(np.float32(a.get("epsilon", 1e-5)))) * r(sc) + r(bi)
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "MaxPool":
            p = a.get("pads", [0] * 4)
            assert p[0] == p[2] and p[1] == p[3]
            y = np_maxpool(ins[0], a["kernel_shape"], a.get("strides", [1, 1]), p[:2], a.get("ceil_mode", 0) == 1)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            ax = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op == "Gemm":
            aa = ins[0].T if a.get("transA", 0) else ins[0]
            bb = ins[1].T if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * aa @ bb + (a.get("beta", 1.0) * ins[2] if len(ins) > 2 else 0)
        elif op == "Softmax":
            y = np_softmax(ins[0], a.get("axis", -1))
        else:
            raise ValueError(f"{path}: node '{node.name}': op {op} not handled by this checker")
        v[node.output[0]] = y
    return v


def run_caffe_numpy(pb, prototxt, caffemodel, x):
    """Interprets the Caffe files (layers from the prototxt, blobs from the caffemodel by
    layer name, as Caffe does); returns {blob name: float64 array} after the last write."""
    from google.protobuf import text_format

    net = text_format.Parse(open(prototxt).read(), pb.NetParameter())
    weights_net = pb.NetParameter()
    weights_net.ParseFromString(open(caffemodel, "rb").read())
    blobs = {lp.name: [np.asarray(b.data, np.float64).reshape(tuple(b.shape.dim)) for b in lp.blobs]
             for lp in weights_net.layer}
    v, snapshots = {}, {}
    for lp in net.layer:
        t = lp.type
        bl = blobs.get(lp.name, [])
        ins = [v[b] for b in lp.bottom]
        if t == "Input":
            assert list(lp.input_param.shape[0].dim) == list(x.shape), (lp.input_param.shape, x.shape)
            y = x.astype(np.float64)
        elif t == "Convolution":
            cp = lp.convolution_param
            k = cp.kernel_size[0]
            s = cp.stride[0] if cp.stride else 1
            p = cp.pad[0] if cp.pad else 0
            assert bl[0].shape[2:] == (k, k)
            y = np_conv(ins[0], bl[0], bl[1] if cp.bias_term else None, [s, s], [p] * 4, cp.group)
        elif t == "BatchNorm":
            sf = bl[2][0]
            f = 0.0 if sf == 0 else 1.0 / sf
            r = lambda a: a.reshape(1, -1, 1, 1)  # noqa: E731
            y = (ins[0] - r(bl[0] * f)) / np.sqrt(r(bl[1] * f) + np.float64(np.float32(lp.batch_norm_param.eps)))
        elif t == "Scale":
            y = ins[0] * bl[0].reshape(1, -1, 1, 1)
            if lp.scale_param.bias_term:
                y = y + bl[1].reshape(1, -1, 1, 1)
        elif t == "ReLU":
            y = np.where(ins[0] > 0, ins[0], ins[0] * lp.relu_param.negative_slope)
        elif t == "Pooling":
            pp = lp.pooling_param
            if pp.global_pooling:
                y = ins[0].max(axis=(2, 3), keepdims=True) if pp.pool == pp.MAX else ins[0].mean(axis=(2, 3), keepdims=True)
            else:
                assert pp.pool == pp.MAX, "AVE with a window is not used by this network"
                y = np_maxpool(ins[0], [pp.kernel_size] * 2, [pp.stride] * 2, [pp.pad] * 2, ceil=True)
        elif t == "Eltwise":
            ep = lp.eltwise_param
            assert ep.operation == ep.SUM
            coeff = list(ep.coeff) or [1.0] * len(ins)
            y = sum(c * a for c, a in zip(coeff, ins))
        elif t == "InnerProduct":
            flat = ins[0].reshape(ins[0].shape[0], -1)
            y = flat @ bl[0].T + (bl[1] if lp.inner_product_param.bias_term else 0)
        elif t == "Softmax":
            y = np_softmax(ins[0], 1)
        else:
            raise ValueError(f"{prototxt}: layer '{lp.name}': type {t} not handled by this checker")
        v[lp.top[0]] = y
        snapshots[lp.name] = y
    return v, snapshots


# ------------------------------------------------------------------ main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "examples", "fashion_mnist", "model"))
    ap.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    ap.add_argument("--check-images", type=int, default=100,
                    help="test images re-run through the written files (default 100)")
    args = ap.parse_args(argv)

    set_determinism()
    print(f"normalization: input = (pixel/255 - {MEAN:.4f}) / {STD:.4f}")
    print(f"  on raw pixels (hb_mapper norm_type data_mean_and_scale): mean_value {MEAN_VALUE:.10g} "
          f"(= {MEAN:.4f} * 255), scale_value {SCALE_VALUE!r} (= 1 / ({STD:.4f} * 255) = 1 / {STD * 255.0:.10g})")
    try:
        train_u8, train_y = load_split("train", args.data_dir)
        test_u8, test_y = load_split("test", args.data_dir)
    except DataError as e:
        print(f"ERROR train_fashion_mnist: {e}", file=sys.stderr)
        return 1
    xtr, ytr = to_input(train_u8), torch.from_numpy(train_y.astype(np.int64))
    xte, yte = to_input(test_u8), torch.from_numpy(test_y.astype(np.int64))
    print(f"data: {len(xtr)} train, {len(xte)} test images from {args.data_dir}")

    model = FashionCNN()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"training {n_params} parameters for {args.epochs} epochs on {torch.get_num_threads()} threads")
    t0 = time.time()
    train(model, xtr, ytr, args.epochs)
    train_s = time.time() - t0
    model.eval()
    acc = top1(model, xte, yte)
    print(f"training time: {train_s:.1f} s")
    print(f"float test top-1 (PyTorch, {len(xte)} test images): {acc * 100:.2f}%")

    os.makedirs(args.out_dir, exist_ok=True)
    w = weights(model)
    doc = (f"Fashion-MNIST classifier trained by qmap's tools/train_fashion_mnist.py ({args.epochs} epochs); "
           f"float test top-1 {acc * 100:.2f}%. Input: gray 1x1x28x28, (pixel/255 - {MEAN}) / {STD}; "
           f"output: softmax over the classes of labels.txt.")
    onnx_path = os.path.join(args.out_dir, "fashion_cnn.onnx")
    proto_path = os.path.join(args.out_dir, "fashion_cnn.prototxt")
    cm_path = os.path.join(args.out_dir, "fashion_cnn.caffemodel")
    labels_path = os.path.join(args.out_dir, "labels.txt")
    write_atomic(onnx_path, onnx_model_bytes(w, doc))
    pb = load_caffe_schema()
    proto_text, cm = caffe_bytes(pb, w)
    write_atomic(proto_path, proto_text.encode())
    write_atomic(cm_path, cm)
    write_atomic(labels_path, "".join(n + "\n" for n in CLASS_NAMES).encode())

    # The check: re-read each file and recompute test images in float64.
    n = args.check_images
    xc = xte[:n]
    with torch.no_grad():
        ref_logits = model(xc).double().numpy()
        ref_prob = model(xc, upto="prob").double().numpy()
    ok = True
    for label, run in (("onnx", lambda xi: run_onnx_numpy(onnx_path, xi)),
                       ("caffe", lambda xi: run_caffe_numpy(pb, proto_path, cm_path, xi)[0])):
        outs = [run(xc[i:i + 1].numpy()) for i in range(n)]  # batch 1, as the files declare
        prob = np.concatenate([o[OUTPUT_NAME] for o in outs])
        logits = np.concatenate([o["fc"] for o in outs])
        d_prob = np.abs(prob - ref_prob).max()
        d_logit = np.abs(logits - ref_logits).max()
        same = int((prob.argmax(1) == ref_prob.argmax(1)).sum())
        good = d_prob < 1e-4 and d_logit < 1e-4
        ok &= good
        print(f"check {label}: {n} test images re-run from the written file (numpy, float64) vs PyTorch: "
              f"max |d prob| {d_prob:.2e}, max |d logits| {d_logit:.2e}, same top-1 {same}/{n}: "
              f"{'OK' if good else 'FAILED'} (limit 1e-4)")

    total = 0
    for p in (onnx_path, proto_path, cm_path, labels_path):
        size = os.path.getsize(p)
        total += size
        print(f"wrote {os.path.relpath(p, ROOT)} ({size} bytes)")
    print(f"total {total} bytes")
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
