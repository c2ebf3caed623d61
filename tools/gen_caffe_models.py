#!/usr/bin/python3
"""Writes the Caffe importer's test models: tests/data/caffe/<case>/.

Each case is a small network defined with PyTorch, written as a Caffe deploy.prototxt
(text) and model.caffemodel (binary) with the project's own schema
(src/import/caffe/caffe.proto, compiled with protoc --python_out into a temporary folder),
plus input_<blob>.binaryproto and output_<blob>.binaryproto (Caffe BlobProto files)
holding the input and PyTorch's outputs. PyTorch is the reference: its ceil-mode pooling
uses Caffe's output-size rule (including the clipping of a last window that would start
in the padding) and Caffe's average divisor, so the pooling cases check the importer
against an independent implementation.

Usage: /usr/bin/python3 tools/gen_caffe_models.py [out_dir]   (needs Debian's python3-torch,
python3-protobuf and protobuf-compiler). Deterministic: fixed seeds, so reruns give the
same files.
"""
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_schema():
    tmp = tempfile.mkdtemp(prefix="qmap_caffe_pb_")
    proto_dir = os.path.join(ROOT, "src", "import", "caffe")
    subprocess.check_call(["protoc", f"--python_out={tmp}", f"-I{proto_dir}", os.path.join(proto_dir, "caffe.proto")])
    sys.path.insert(0, tmp)
    import caffe_pb2  # noqa: E402
    return caffe_pb2


pb = load_schema()
from google.protobuf import text_format  # noqa: E402


def blob(t, legacy=False):
    b = pb.BlobProto()
    t = t.detach().to(torch.float32).contiguous()
    if legacy:
        d = [1] * (4 - t.dim()) + list(t.shape)
        b.num, b.channels, b.height, b.width = d
    else:
        b.shape.dim.extend(list(t.shape))
    b.data.extend(t.flatten().tolist())
    return b


V1_TYPES = {
    "Convolution": "CONVOLUTION", "Pooling": "POOLING", "ReLU": "RELU", "InnerProduct": "INNER_PRODUCT",
    "Softmax": "SOFTMAX", "Concat": "CONCAT", "Eltwise": "ELTWISE", "Dropout": "DROPOUT", "Split": "SPLIT",
    "Flatten": "FLATTEN", "Sigmoid": "SIGMOID", "TanH": "TANH", "LRN": "LRN", "Power": "POWER",
    "AbsVal": "ABSVAL", "Slice": "SLICE", "Deconvolution": "DECONVOLUTION", "ArgMax": "ARGMAX",
}


class Net:
    """A Caffe net being written: layers (V2 `layer` or V1 `layers`) and their blobs."""

    def __init__(self, name, v1=False):
        self.v1 = v1
        self.proto = pb.NetParameter(name=name)
        self.model = pb.NetParameter(name=name)

    def net_input(self, name, shape, use_dim=False):
        for n in (self.proto, self.model):
            n.input.append(name)
            if use_dim:
                n.input_dim.extend(shape)
            else:
                n.input_shape.add().dim.extend(shape)

    def layer(self, name, type_, bottoms, tops, blobs=(), **params):
        for target, with_blobs in ((self.proto, False), (self.model, True)):
            if self.v1:
                lp = target.layers.add()
                lp.type = pb.V1LayerParameter.LayerType.Value(V1_TYPES[type_])
            else:
                lp = target.layer.add()
                lp.type = type_
            lp.name = name
            lp.bottom.extend(bottoms)
            lp.top.extend(tops)
            for field, values in params.items():
                sub = getattr(lp, field)
                for k, v in values.items():
                    attr = getattr(sub, k)
                    if isinstance(v, (list, tuple)) and not isinstance(v, str):
                        attr.extend(v)
                    elif isinstance(v, dict):
                        for kk, vv in v.items():
                            getattr(attr, kk).extend(vv) if isinstance(vv, list) else setattr(attr, kk, vv)
                    else:
                        setattr(sub, k, v)
            if with_blobs:
                for b in blobs:
                    lp.blobs.append(blob(b, legacy=self.v1))

    def input_layer(self, name, shape):
        self.layer(name, "Input", [], [name], input_param={})
        for n in (self.proto, self.model):
            (n.layer[-1]).input_param.shape.add().dim.extend(shape)


def write_blob(path, t):
    with open(path, "wb") as f:
        f.write(blob(t).SerializeToString())


def save(out_dir, case, net, inputs, outputs, proto_net=None, model_net=None):
    d = os.path.join(out_dir, case)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "deploy.prototxt"), "w") as f:
        f.write(text_format.MessageToString(proto_net or net.proto))
    with open(os.path.join(d, "model.caffemodel"), "wb") as f:
        f.write((model_net or net.model).SerializeToString())
    for k, v in inputs.items():
        write_blob(os.path.join(d, f"input_{k}.binaryproto"), v)
    for k, v in outputs.items():
        write_blob(os.path.join(d, f"output_{k}.binaryproto"), v)
    print(f"wrote {d}: outputs {sorted(outputs)}")


def rnd(*shape, scale=1.0):
    return torch.randn(*shape) * scale


# ------------------------------------------------------------------ cases

def case_pooling(out):
    """Ceil-rounded pooling on uneven sizes, the clipped last window, _h/_w forms, global."""
    torch.manual_seed(1)
    x = rnd(1, 2, 10, 11)
    n = Net("pooling")
    n.input_layer("data", list(x.shape))
    outs = {}
    # MAX, no pad, ceil: 10 -> ceil(7/2)+1 = 5 (floor mode would give 4).
    n.layer("max_ceil", "Pooling", ["data"], ["max_ceil"], pooling_param=dict(pool=0, kernel_size=3, stride=2))
    outs["max_ceil"] = F.max_pool2d(x, 3, 2, 0, ceil_mode=True)
    # AVE, pad 1: the last window runs past in + pad, so Caffe's divisor is smaller there.
    n.layer("ave_pad", "Pooling", ["data"], ["ave_pad"], pooling_param=dict(pool=1, kernel_size=3, stride=2, pad=1))
    outs["ave_pad"] = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=True)
    # AVE without pad, ceil: the last window is cut by the input edge.
    n.layer("ave_ceil", "Pooling", ["data"], ["ave_ceil"], pooling_param=dict(pool=1, kernel_size=3, stride=2))
    outs["ave_ceil"] = F.avg_pool2d(x, 3, 2, 0, ceil_mode=True, count_include_pad=True)
    # Rectangular kernel/stride/pad through the _h/_w fields, MAX and AVE.
    hw = dict(kernel_h=3, kernel_w=2, stride_h=2, stride_w=3, pad_h=1, pad_w=1)
    n.layer("max_hw", "Pooling", ["data"], ["max_hw"], pooling_param=dict(pool=0, **hw))
    outs["max_hw"] = F.max_pool2d(x, (3, 2), (2, 3), (1, 1), ceil_mode=True)
    n.layer("ave_hw", "Pooling", ["data"], ["ave_hw"], pooling_param=dict(pool=1, **hw))
    outs["ave_hw"] = F.avg_pool2d(x, (3, 2), (2, 3), (1, 1), ceil_mode=True, count_include_pad=True)
    # MAX with pad where the clipping rule removes a window: in 11, k 2, s 2, pad 1.
    n.layer("max_clip", "Pooling", ["data"], ["max_clip"], pooling_param=dict(pool=0, kernel_size=2, stride=2, pad=1))
    outs["max_clip"] = F.max_pool2d(x, 2, 2, 1, ceil_mode=True)
    n.layer("gap", "Pooling", ["data"], ["gap"], pooling_param=dict(pool=1, global_pooling=True))
    outs["gap"] = x.mean(dim=(2, 3), keepdim=True)
    n.layer("gmp", "Pooling", ["data"], ["gmp"], pooling_param=dict(pool=0, global_pooling=True))
    outs["gmp"] = x.amax(dim=(2, 3), keepdim=True)
    save(out, "pooling", n, {"data": x}, outs)


def case_bn_scale(out):
    """Convolution -> BatchNorm (scale factor != 1) -> Scale with bias -> in-place ReLU; Bias."""
    torch.manual_seed(2)
    x = rnd(1, 3, 7, 7)
    w, b = rnd(4, 3, 3, 3, scale=0.3), rnd(4, scale=0.1)
    mean, var, factor = rnd(4, scale=0.2), torch.rand(4) + 0.5, torch.tensor([0.5])
    gamma, beta, bias2 = rnd(4), rnd(4), rnd(4, 7)
    n = Net("bn_scale")
    n.input_layer("data", list(x.shape))
    n.layer("conv", "Convolution", ["data"], ["conv"], [w, b], convolution_param=dict(num_output=4, kernel_size=[3], pad=[1]))
    # Caffe stores the running sums; the statistics are blob / scale_factor.
    n.layer("bn", "BatchNorm", ["conv"], ["conv"], [mean * factor, var * factor, factor],
            batch_norm_param=dict(use_global_stats=True, eps=1e-3))
    n.layer("scale", "Scale", ["conv"], ["conv"], [gamma, beta], scale_param=dict(bias_term=True))
    n.layer("relu", "ReLU", ["conv"], ["conv"])
    # Bias over axes 1..2 (C x H): broadcast along W.
    n.layer("bias", "Bias", ["conv"], ["biased"], [bias2], bias_param=dict(axis=1, num_axes=2))
    y = F.conv2d(x, w, b, padding=1)
    y = F.batch_norm(y, mean, var, eps=1e-3)
    y = torch.relu(y * gamma.view(1, 4, 1, 1) + beta.view(1, 4, 1, 1))
    save(out, "bn_scale", n, {"data": x}, {"biased": y + bias2.view(1, 4, 7, 1)})


def case_eltwise(out):
    """Eltwise SUM with coefficients (including -1), plain SUM, PROD and MAX."""
    torch.manual_seed(3)
    a, b, c = rnd(1, 3, 4, 5), rnd(1, 3, 4, 5), rnd(1, 3, 4, 5)
    n = Net("eltwise")
    for k, v in (("a", a), ("b", b), ("c", c)):
        n.net_input(k, list(v.shape))
    n.layer("sum_coeff", "Eltwise", ["a", "b", "c"], ["sum_coeff"], eltwise_param=dict(operation=1, coeff=[0.5, -1.0, 2.0]))
    n.layer("sum", "Eltwise", ["a", "b"], ["sum"])
    n.layer("prod", "Eltwise", ["a", "b", "c"], ["prod"], eltwise_param=dict(operation=0))
    n.layer("max", "Eltwise", ["a", "b", "c"], ["max"], eltwise_param=dict(operation=2))
    save(out, "eltwise", n, {"a": a, "b": b, "c": c},
         {"sum_coeff": 0.5 * a - b + 2 * c, "sum": a + b, "prod": a * b * c, "max": torch.max(torch.max(a, b), c)})


def case_group_conv(out):
    """Grouped convolution with dilation and the _h/_w forms; depthwise without bias."""
    torch.manual_seed(4)
    x = rnd(1, 4, 9, 8)
    w1, b1 = rnd(6, 2, 3, 2, scale=0.3), rnd(6, scale=0.1)
    w2 = rnd(6, 1, 3, 3, scale=0.3)
    n = Net("group_conv")
    n.input_layer("data", list(x.shape))
    n.layer("gconv", "Convolution", ["data"], ["gconv"], [w1, b1],
            convolution_param=dict(num_output=6, group=2, kernel_h=3, kernel_w=2, stride_h=2, stride_w=1, pad_h=2,
                                   pad_w=1, dilation=[2]))
    n.layer("dw", "Convolution", ["gconv"], ["dw"], [w2],
            convolution_param=dict(num_output=6, group=6, kernel_size=[3], stride=[2], pad=[1], bias_term=False))
    y1 = F.conv2d(x, w1, b1, stride=(2, 1), padding=(2, 1), dilation=2, groups=2)
    y2 = F.conv2d(y1, w2, None, stride=2, padding=1, groups=6)
    save(out, "group_conv", n, {"data": x}, {"dw": y2})


def case_deconv(out):
    """Deconvolution with stride, pad and groups."""
    torch.manual_seed(5)
    x = rnd(1, 4, 5, 6)
    w, b = rnd(4, 3, 4, 4, scale=0.3), rnd(6, scale=0.1)
    n = Net("deconv")
    n.input_layer("data", list(x.shape))
    n.layer("up", "Deconvolution", ["data"], ["up"], [w, b],
            convolution_param=dict(num_output=6, group=2, kernel_size=[4], stride=[2], pad=[1]))
    save(out, "deconv", n, {"data": x}, {"up": F.conv_transpose2d(x, w, b, stride=2, padding=1, groups=2)})


def case_inner_product(out):
    """InnerProduct on a 4-D input (axis 1), with transpose, and with axis 2 (3-D output)."""
    torch.manual_seed(6)
    x = rnd(2, 3, 4, 5)
    w1, b1 = rnd(7, 60, scale=0.2), rnd(7, scale=0.1)
    w2 = rnd(60, 5, scale=0.2)
    w3, b3 = rnd(4, 20, scale=0.2), rnd(4, scale=0.1)
    n = Net("inner_product")
    n.input_layer("data", list(x.shape))
    n.layer("fc", "InnerProduct", ["data"], ["fc"], [w1, b1], inner_product_param=dict(num_output=7))
    n.layer("fc_t", "InnerProduct", ["data"], ["fc_t"], [w2], inner_product_param=dict(num_output=5, transpose=True, bias_term=False))
    n.layer("fc_axis2", "InnerProduct", ["data"], ["fc_axis2"], [w3, b3], inner_product_param=dict(num_output=4, axis=2))
    save(out, "inner_product", n, {"data": x},
         {"fc": F.linear(x.flatten(1), w1, b1), "fc_t": x.flatten(1) @ w2,
          "fc_axis2": F.linear(x.flatten(2), w3, b3)})


def case_slice_concat(out):
    """Slice by slice_point and evenly; Concat on channels and on height; Split."""
    torch.manual_seed(7)
    x = rnd(1, 6, 4, 4)
    n = Net("slice_concat")
    n.input_layer("data", list(x.shape))
    n.layer("split", "Split", ["data"], ["d1", "d2"])
    n.layer("slice", "Slice", ["d1"], ["s0", "s1", "s2"], slice_param=dict(axis=1, slice_point=[1, 4]))
    n.layer("halves", "Slice", ["d2"], ["h0", "h1"], slice_param=dict(axis=2))
    n.layer("cat_c", "Concat", ["s2", "s0", "s1"], ["cat_c"])
    n.layer("cat_h", "Concat", ["h1", "h0"], ["cat_h"], concat_param=dict(axis=2))
    s0, s1, s2 = x[:, :1], x[:, 1:4], x[:, 4:]
    h0, h1 = x[:, :, :2], x[:, :, 2:]
    save(out, "slice_concat", n, {"data": x},
         {"cat_c": torch.cat([s2, s0, s1], 1), "cat_h": torch.cat([h1, h0], 2)})


def case_activations(out):
    """PReLU (per channel and shared), leaky ReLU, ELU, Sigmoid, TanH, AbsVal, Power."""
    torch.manual_seed(8)
    x = rnd(1, 3, 4, 4)
    s1, s2 = torch.tensor([0.1, 0.2, -0.3]), torch.tensor([0.25])
    n = Net("activations")
    n.input_layer("data", list(x.shape))
    n.layer("prelu", "PReLU", ["data"], ["prelu"], [s1])
    n.layer("prelu_shared", "PReLU", ["data"], ["prelu_shared"], [s2], prelu_param=dict(channel_shared=True))
    n.layer("leaky", "ReLU", ["data"], ["leaky"], relu_param=dict(negative_slope=0.1))
    n.layer("elu", "ELU", ["data"], ["elu"], elu_param=dict(alpha=0.7))
    n.layer("sigmoid", "Sigmoid", ["data"], ["sigmoid"])
    n.layer("tanh", "TanH", ["data"], ["tanh"])
    n.layer("abs", "AbsVal", ["data"], ["abs"])
    n.layer("power", "Power", ["abs"], ["power"], power_param=dict(power=1.5, scale=0.5, shift=0.25))
    save(out, "activations", n, {"data": x},
         {"prelu": F.prelu(x, s1), "prelu_shared": F.prelu(x, s2), "leaky": F.leaky_relu(x, 0.1),
          "elu": F.elu(x, 0.7), "sigmoid": torch.sigmoid(x), "tanh": torch.tanh(x),
          "power": (0.25 + 0.5 * x.abs()) ** 1.5})


def case_shapes(out):
    """Permute, Flatten (default and axis/end_axis), Reshape with 0 and -1, Softmax on an axis."""
    torch.manual_seed(9)
    x = rnd(2, 3, 4, 5)
    n = Net("shapes")
    n.input_layer("data", list(x.shape))
    n.layer("perm", "Permute", ["data"], ["perm"], permute_param=dict(order=[0, 2, 3, 1]))
    n.layer("flat", "Flatten", ["perm"], ["flat"])
    n.layer("flat_mid", "Flatten", ["data"], ["flat_mid"], flatten_param=dict(axis=1, end_axis=2))
    n.layer("reshape", "Reshape", ["data"], ["reshape"], reshape_param=dict(shape=dict(dim=[0, -1, 10])))
    n.layer("prob", "Softmax", ["reshape"], ["prob"], softmax_param=dict(axis=2))
    p = x.permute(0, 2, 3, 1)
    save(out, "shapes", n, {"data": x},
         {"flat": p.flatten(1), "flat_mid": x.reshape(2, 12, 5), "prob": torch.softmax(x.reshape(2, 6, 10), 2)})


def case_misc(out):
    """LRN (both regions), Crop, Upsample, ArgMax, Normalize, Dropout; input via input_dim."""
    torch.manual_seed(10)
    x = rnd(1, 4, 6, 6)
    ref = rnd(1, 4, 3, 4)
    scale = torch.tensor([1.5, 2.0, 0.5, 1.0])
    n = Net("misc")
    n.net_input("data", list(x.shape), use_dim=True)
    n.net_input("ref", list(ref.shape), use_dim=True)
    n.layer("lrn", "LRN", ["data"], ["lrn"], lrn_param=dict(local_size=3, alpha=0.5, beta=0.75, k=2.0))
    n.layer("lrn_within", "LRN", ["data"], ["lrn_within"], lrn_param=dict(local_size=3, alpha=0.5, beta=0.75, norm_region=1))
    n.layer("crop", "Crop", ["data", "ref"], ["crop"], crop_param=dict(axis=2, offset=[2, 1]))
    n.layer("drop", "Dropout", ["crop"], ["crop"], dropout_param=dict(dropout_ratio=0.3))
    n.layer("up", "Upsample", ["crop"], ["up"], upsample_param=dict(scale=2))
    n.layer("argmax", "ArgMax", ["data"], ["argmax"], argmax_param=dict(axis=1))
    n.layer("norm", "Normalize", ["data"], ["norm"], [scale], norm_param=dict(across_spatial=False, channel_shared=False))
    n.layer("norm_all", "Normalize", ["data"], ["norm_all"], [torch.tensor([3.0])], norm_param=dict(across_spatial=True))
    crop = x[:, :, 2:5, 1:5]
    # Caffe WITHIN_CHANNEL: x * (1 + alpha * avgpool(x^2, size, pad (size-1)/2))^-beta.
    within = x * (1 + 0.5 * F.avg_pool2d(x * x, 3, 1, 1, count_include_pad=True)) ** -0.75
    norm = x / (x.pow(2).sum(1, keepdim=True) + 1e-10).sqrt() * scale.view(1, 4, 1, 1)
    norm_all = x / (x.pow(2).sum() + 1e-10).sqrt() * 3.0
    save(out, "misc", n, {"data": x, "ref": ref},
         {"lrn": F.local_response_norm(x, 3, alpha=0.5, beta=0.75, k=2.0), "lrn_within": within,
          "up": F.interpolate(crop, scale_factor=2, mode="nearest"),
          "argmax": x.argmax(1, keepdim=True).float(), "norm": norm, "norm_all": norm_all})


def lenet_like(v1):
    torch.manual_seed(11)
    x = rnd(1, 1, 12, 12)
    w1, b1 = rnd(4, 1, 3, 3, scale=0.5), rnd(4, scale=0.1)
    w2, b2 = rnd(5, 4 * 5 * 5, scale=0.1), rnd(5, scale=0.1)
    n = Net("lenet_v1" if v1 else "lenet_v2", v1=v1)
    n.net_input("data", list(x.shape))
    n.layer("conv1", "Convolution", ["data"], ["conv1"], [w1, b1], convolution_param=dict(num_output=4, kernel_size=[3]))
    n.layer("pool1", "Pooling", ["conv1"], ["pool1"], pooling_param=dict(pool=0, kernel_size=2, stride=2))
    n.layer("relu1", "ReLU", ["pool1"], ["pool1"])
    n.layer("ip1", "InnerProduct", ["pool1"], ["ip1"], [w2, b2], inner_product_param=dict(num_output=5))
    n.layer("prob", "Softmax", ["ip1"], ["prob"])
    y = torch.relu(F.max_pool2d(F.conv2d(x, w1, b1), 2, 2, ceil_mode=True))
    y = torch.softmax(F.linear(y.flatten(1), w2, b2), 1)
    return n, x, y


def case_v1(out):
    """The legacy V1 format (`layers`, enum types, legacy 4-D blobs) in both files, and a
    V2 prototxt with the V1 caffemodel."""
    n1, x, y = lenet_like(True)
    save(out, "v1", n1, {"data": x}, {"prob": y})
    n2, _, _ = lenet_like(False)
    save(out, "v2_proto_v1_model", n2, {"data": x}, {"prob": y}, proto_net=n2.proto, model_net=n1.model)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests", "data", "caffe")
    for f in (case_pooling, case_bn_scale, case_eltwise, case_group_conv, case_deconv, case_inner_product,
              case_slice_concat, case_activations, case_shapes, case_misc, case_v1):
        f(out)


if __name__ == "__main__":
    main()
