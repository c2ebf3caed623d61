#!/usr/bin/python3
"""ONNX Runtime's quantize_static, as its users run it, for the accuracy suite's comparison
(issue 13: "qmap's default beats ONNX Runtime's quantize_static, per-channel QDQ, same
calibration images"). ONNX Runtime's Python package is not in Debian, so this rebuilds its
default recipe with python3-onnx and runs everything in ONNX Runtime itself (onnxruntime-node,
bench/ort_quantize_static.js):

  quantize_static(model, calibration reader, quant_format=QDQ, per_channel=True) with its
  defaults: calibrate_method MinMax, activation_type QUInt8, weight_type QInt8, no reduce_range,
  after quant_pre_process (BatchNormalization folded into the Conv before it, Identity nodes
  removed).

- MinMax: each tensor's min and max over every calibration image; the range is widened to hold
  0: rmin = min(min, 0), rmax = max(max, 0).
- Activations: uint8, asymmetric: scale = (rmax - rmin) / 255 (1 when 0), zero point
  round(-rmin / scale) clipped to [0, 255].
- Weights (Conv, Gemm, MatMul): int8 symmetric per output channel, [-127, 127]:
  scale = max|w| / 127 (1 when 0). Biases: int32 at input scale x weight scale, zero point 0.
- Which tensors get a QuantizeLinear/DequantizeLinear pair (ONNX Runtime's QDQ registry for the
  ops these models use): the activation inputs and the output of Conv, Gemm, MatMul, Add, Mul,
  AveragePool, GlobalAveragePool, Concat; a Relu or Clip right after one of them (its only
  reader) is removed into it (QDQRemovableActivation: the output's range and the uint8
  saturation do the clipping); MaxPool, Reshape, Flatten, Transpose, Squeeze, Unsqueeze,
  Identity give their output the input's parameters. Softmax and the rest stay float.
- The model is makertbin's m_original_float_model.onnx: qmap's preprocess node (nodes named
  PREPROCESS_*, uint8 image in, normalized float out) stays float, and its output is the
  model input ONNX Runtime's quantizer would quantize.

  ort_quantize_static.py outputs MODEL.onnx OUT.onnx    BN folded, every tensor a graph output
  ort_quantize_static.py qdq MODEL.onnx RANGES.json OUT.onnx
  ort_quantize_static.py fold MODEL.onnx OUT.onnx       BN folded (the float model to compare)
Each written model gets OUT.onnx.input.json (its input's name and static dims) for the .js side.
"""
import json
import sys

import google.protobuf.message
import numpy as np
import onnx
from onnx import helper, numpy_helper as nh, TensorProto

WEIGHTED = {"Conv", "Gemm", "MatMul"}
OWN = {"Add", "Mul", "AveragePool", "GlobalAveragePool", "Concat"}
ACTIVATION = {"Relu", "Clip"}
DIRECT8 = {"MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity"}


def fail(msg):
    sys.stderr.write("ort_quantize_static.py: " + msg + "\n")
    sys.exit(1)


def attr(n, key, default):
    for a in n.attribute:
        if a.name == key:
            return helper.get_attribute_value(a)
    return default


def readers(g):
    r = {}
    for n in g.node:
        for i in n.input:
            r.setdefault(i, []).append(n)
    return r


def fold_batchnorm(m):
    """quant_pre_process's Conv + BatchNormalization fusion (a BN whose input only it reads)."""
    g = m.graph
    init = {i.name: i for i in g.initializer}
    prod = {o: n for n in g.node for o in n.output}
    rd = readers(g)
    outs = {o.name for o in g.output}
    drop = []
    for bn in g.node:
        if bn.op_type != "BatchNormalization":
            continue
        conv = prod.get(bn.input[0])
        if conv is None or conv.op_type != "Conv" or len(rd[bn.input[0]]) != 1 or bn.input[0] in outs:
            continue
        if any(x not in init for x in bn.input[1:5]) or conv.input[1] not in init:
            continue
        s, b, mean, var = (nh.to_array(init[x]).astype(np.float64) for x in bn.input[1:5])
        k = s / np.sqrt(var + attr(bn, "epsilon", 1e-5))
        w = nh.to_array(init[conv.input[1]]).astype(np.float64)
        bias = nh.to_array(init[conv.input[2]]).astype(np.float64) if len(conv.input) > 2 else np.zeros(w.shape[0])
        wname, bname = conv.name + "_wfold", conv.name + "_bfold"
        g.initializer.extend([nh.from_array((w * k.reshape(-1, 1, 1, 1)).astype(np.float32), wname),
                              nh.from_array(((bias - mean) * k + b).astype(np.float32), bname)])
        del conv.input[1:]
        conv.input.extend([wname, bname])
        conv.output[0] = bn.output[0]
        drop.append(bn)
    for n in drop:
        g.node.remove(n)


def remove_identities(m):
    """quant_pre_process's optimizer drops Identity nodes (one that writes a graph output stays)."""
    g = m.graph
    outs = {o.name for o in g.output}
    alias = {}
    for n in list(g.node):
        if n.op_type == "Identity" and n.output[0] not in outs:
            alias[n.output[0]] = n.input[0]
            g.node.remove(n)
    for n in g.node:
        for i, t in enumerate(n.input):
            while t in alias:
                t = alias[t]
            n.input[i] = t


def pre_process(m):
    fold_batchnorm(m)
    remove_identities(m)


def write(m, path):
    i = m.graph.input[0]
    dims = [d.dim_value for d in i.type.tensor_type.shape.dim]
    if any(d <= 0 for d in dims):
        fail(f"input '{i.name}' has dims {dims}: needs static dims")
    onnx.save(m, path)
    json.dump({"name": i.name, "dims": dims}, open(path + ".input.json", "w"))


def float_tensors(m):
    """Non-constant float tensors outside the preprocess node, in graph order."""
    inf = onnx.shape_inference.infer_shapes(m)
    ftype = {v.name: v.type.tensor_type.elem_type for v in list(inf.graph.value_info) + list(inf.graph.output)}
    init = {i.name for i in m.graph.initializer}
    seen, out = set(), []
    for n in m.graph.node:
        if n.name.startswith("PREPROCESS_"):
            continue
        for t in list(n.input) + list(n.output):
            if t and t not in init and t not in seen and ftype.get(t) == TensorProto.FLOAT:
                seen.add(t)
                out.append(t)
    return out


def cmd_outputs(src, dst):
    m = onnx.load(src)
    pre_process(m)
    have = {o.name for o in m.graph.output}
    for t in float_tensors(m):
        if t not in have:
            m.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    write(m, dst)


def cmd_fold(src, dst):
    m = onnx.load(src)
    pre_process(m)
    write(m, dst)


def act_params(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = np.float32((hi - lo) / 255.0)
    if scale == 0:
        scale = np.float32(1.0)
    zp = int(np.clip(np.round(-lo / scale), 0, 255))
    return scale, zp


def cmd_qdq(src, ranges_path, dst):
    m = onnx.load(src)
    pre_process(m)
    g = m.graph
    ranges = json.load(open(ranges_path))
    init = {i.name: i for i in g.initializer}
    rd = readers(g)
    outs = {o.name for o in g.output}
    floats = set(float_tensors(m))
    own, same = [], {}  # tensors with their own parameters; tensor -> tensor whose parameters it shares

    def quantized(t):
        return t in same or t in own

    def need(t):
        if t and t not in init and not quantized(t):
            if t not in ranges:
                fail(f"no calibrated range for tensor '{t}'")
            own.append(t)

    fused = {}  # id of a removable Relu/Clip -> (the node, its producer)
    for n in g.node:
        if n.name.startswith("PREPROCESS_"):
            continue
        op = n.op_type
        if not n.output[0] in floats:
            continue  # shape arithmetic (a Concat of int64 dims)
        if op in WEIGHTED or op in OWN:
            for t in (n.input[:1] if op in WEIGHTED else n.input):
                need(t)
            y = n.output[0]
            r = rd.get(y, [])
            if len(r) == 1 and r[0].op_type in ACTIVATION and y not in outs:
                fused[id(r[0])] = (r[0], n)  # removed into this node: only its output is quantized
                need(r[0].output[0])
            else:
                need(y)
        elif op in ACTIVATION and id(n) not in fused:
            need(n.input[0])
            need(n.output[0])
        elif op in DIRECT8 and quantized(n.input[0]) and not quantized(n.output[0]):
            same[n.output[0]] = n.input[0]

    # The removed activations: the producer writes the activation's output, which the uint8
    # saturation at its calibrated range clips (ONNX Runtime's QDQRemovableActivation).
    for act, producer in fused.values():
        producer.output[0] = act.output[0]
        g.node.remove(act)

    def params(t):
        while t in same:
            t = same[t]
        return act_params(*ranges[t])

    new_init, new_nodes = [], []
    # Weights and biases of the weighted nodes.
    for n in g.node:
        if n.op_type not in WEIGHTED or n.name.startswith("PREPROCESS_") or n.input[1] not in init:
            continue
        w = nh.to_array(init[n.input[1]]).astype(np.float32)
        if n.op_type == "Conv":
            axis = 0
        elif n.op_type == "Gemm":
            if attr(n, "transA", 0):
                continue
            axis = 0 if attr(n, "transB", 0) else 1
        else:
            if w.ndim != 2:
                continue
            axis = 1
        red = tuple(i for i in range(w.ndim) if i != axis)
        wscale = (np.abs(w).max(axis=red) / 127.0).astype(np.float32)
        wscale[wscale == 0] = 1.0
        shape = [1] * w.ndim
        shape[axis] = -1
        wq = np.clip(np.round(w / wscale.reshape(shape)), -127, 127).astype(np.int8)
        base = n.input[1]
        new_init += [nh.from_array(wq, base + "/ortq_q"), nh.from_array(wscale, base + "/ortq_scale"),
                     nh.from_array(np.zeros(wscale.shape, np.int8), base + "/ortq_zp")]
        new_nodes.append(helper.make_node("DequantizeLinear", [base + "/ortq_q", base + "/ortq_scale", base + "/ortq_zp"],
                                          [base + "/ortq_dq"], name=base + "/ortq_DequantizeLinear", axis=axis))
        n.input[1] = base + "/ortq_dq"
        if len(n.input) > 2 and n.input[2] in init:
            b = nh.to_array(init[n.input[2]]).astype(np.float64)
            if b.ndim == 1 and b.shape[0] == wscale.shape[0]:
                xs, _ = params(n.input[0])
                bscale = (np.float64(xs) * wscale.astype(np.float64)).astype(np.float32)
                bq = np.clip(np.round(b / bscale), -2**31, 2**31 - 1).astype(np.int32)
                bb = n.input[2]
                new_init += [nh.from_array(bq, bb + "/ortq_q"), nh.from_array(bscale, bb + "/ortq_scale"),
                             nh.from_array(np.zeros(bscale.shape, np.int32), bb + "/ortq_zp")]
                new_nodes.append(helper.make_node("DequantizeLinear", [bb + "/ortq_q", bb + "/ortq_scale", bb + "/ortq_zp"],
                                                  [bb + "/ortq_dq"], name=bb + "/ortq_DequantizeLinear", axis=0))
                n.input[2] = bb + "/ortq_dq"
    # One QuantizeLinear -> DequantizeLinear pair per quantized tensor: its producer now writes
    # '<t>/ortq_float', and the pair writes <t>, so every reader (and a graph output) gets the
    # quantized value.
    for t in own + list(same):
        scale, zp = params(t)
        for n in g.node:
            for i, o in enumerate(n.output):
                if o == t:
                    n.output[i] = t + "/ortq_float"
        for i in g.input:
            if i.name == t:
                fail(f"graph input '{t}' is float: not a makertbin model")
        new_init += [nh.from_array(np.array(scale, np.float32), t + "/ortq_scale"),
                     nh.from_array(np.array(zp, np.uint8), t + "/ortq_zp")]
        new_nodes += [helper.make_node("QuantizeLinear", [t + "/ortq_float", t + "/ortq_scale", t + "/ortq_zp"], [t + "/ortq_q"],
                                       name=t + "/ortq_QuantizeLinear"),
                      helper.make_node("DequantizeLinear", [t + "/ortq_q", t + "/ortq_scale", t + "/ortq_zp"], [t],
                                       name=t + "/ortq_DequantizeLinear")]
    g.initializer.extend(new_init)
    g.node.extend(new_nodes)
    used = {i for n in g.node for i in n.input}
    for i in [i for i in g.initializer if i.name not in used]:
        g.initializer.remove(i)  # the float weights and biases the pairs replaced
    # Topological order again (the pairs were appended).
    order, done = [], {i.name for i in g.input} | {i.name for i in g.initializer} | {""}
    pending = list(g.node)
    while pending:
        rest = [n for n in pending if not all(i in done for i in n.input)]
        ready = [n for n in pending if all(i in done for i in n.input)]
        if not ready:
            fail("cycle while ordering the QDQ graph")
        for n in ready:
            order.append(n)
            done.update(n.output)
        pending = rest
    del g.node[:]
    g.node.extend(order)
    write(m, dst)
    sys.stderr.write(f"ort_quantize_static.py: {len(own)} tensors with their own parameters, {len(same)} sharing, "
                     f"{len(fused)} activations removed into their producer\n")


def main(a):
    if len(a) == 3 and a[0] == "outputs":
        cmd_outputs(a[1], a[2])
    elif len(a) == 3 and a[0] == "fold":
        cmd_fold(a[1], a[2])
    elif len(a) == 4 and a[0] == "qdq":
        cmd_qdq(a[1], a[2], a[3])
    else:
        fail("usage: outputs MODEL OUT | fold MODEL OUT | qdq MODEL RANGES.json OUT")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except OSError as e:  # a missing or unreadable model, ranges file or output folder
        fail(f"'{e.filename}': {e.strerror}")
    except (json.JSONDecodeError, onnx.onnx_cpp2py_export.checker.ValidationError, google.protobuf.message.DecodeError) as e:
        fail(f"{type(e).__name__}: {e}")
