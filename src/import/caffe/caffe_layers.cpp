// Caffe layer -> IR mappings. Each mapper follows the Caffe layer's Reshape/Forward_cpu
// semantics (BVLC master; SSD and YOLOv3 forks for Permute, Normalize, Upsample) and emits
// opset-17 IR ops. docs/caffe.md lists the mapping of every layer and the deviations.
#include <cmath>
#include <numeric>

#include "import/caffe/caffe_builder.h"

namespace qmap::caffe_import {

namespace {

using Attrs = std::map<std::string, AttrValue>;

int64_t prod(const Dims& d, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < d.size(); ++i) p *= d[i];
  return p;
}

// Reshape of `v` to static `shape` (every dim explicit, so ONNX's 0/-1 rules never apply).
Result<ValueId> reshape_to(LayerCtx& c, ValueId v, const Dims& shape, const std::string& step) {
  return c.node1("Reshape", step, {v, c.int64s(step + "_shape", shape)});
}

// ---------------------------------------------------------------- convolution family

struct ConvGeometry {
  Dims kernel, stride, pad, dilation;
};

// Caffe's BaseConvolutionLayer::LayerSetUp: kernel_size/pad/stride/dilation are given once
// for all spatial axes or once per axis; kernel_h/_w, pad_h/_w, stride_h/_w for 2-D only.
Result<ConvGeometry> conv_geometry(const LayerCtx& c, const caffe::ConvolutionParameter& p, int spatial) {
  ConvGeometry g;
  auto per_axis = [&](const google::protobuf::RepeatedField<uint32_t>& v, int64_t dflt, const char* what) -> Result<Dims> {
    if (v.size() == 0) return Dims(static_cast<size_t>(spatial), dflt);
    if (v.size() == 1) return Dims(static_cast<size_t>(spatial), v[0]);
    if (v.size() != spatial)
      return c.error("{} has {} values: give 1 or one per spatial axis ({})", what, v.size(), spatial);
    return Dims(v.begin(), v.end());
  };
  const bool hw = p.has_kernel_h() || p.has_kernel_w();
  if (hw) {
    if (spatial != 2) return c.error("kernel_h/kernel_w apply to 2-D convolution only: the input has {} spatial axes", spatial);
    if (!p.has_kernel_h() || !p.has_kernel_w()) return c.error("kernel_h and kernel_w must be given together");
    if (p.kernel_size_size() > 0) return c.error("kernel_size and kernel_h/kernel_w are both given: give one");
    g.kernel = {p.kernel_h(), p.kernel_w()};
  } else {
    if (p.kernel_size_size() == 0) return c.error("no kernel_size (or kernel_h/kernel_w) is given");
    QMAP_ASSIGN_OR_RETURN(g.kernel, per_axis(p.kernel_size(), 1, "kernel_size"));
  }
  if (p.has_pad_h() || p.has_pad_w()) {
    if (spatial != 2) return c.error("pad_h/pad_w apply to 2-D convolution only");
    if (p.pad_size() > 0) return c.error("pad and pad_h/pad_w are both given: give one");
    g.pad = {p.pad_h(), p.pad_w()};
  } else {
    QMAP_ASSIGN_OR_RETURN(g.pad, per_axis(p.pad(), 0, "pad"));
  }
  if (p.has_stride_h() || p.has_stride_w()) {
    if (spatial != 2) return c.error("stride_h/stride_w apply to 2-D convolution only");
    if (p.stride_size() > 0) return c.error("stride and stride_h/stride_w are both given: give one");
    g.stride = {p.has_stride_h() ? p.stride_h() : 1, p.has_stride_w() ? p.stride_w() : 1};
  } else {
    QMAP_ASSIGN_OR_RETURN(g.stride, per_axis(p.stride(), 1, "stride"));
  }
  QMAP_ASSIGN_OR_RETURN(g.dilation, per_axis(p.dilation(), 1, "dilation"));
  for (int i = 0; i < spatial; ++i) {
    if (g.kernel[static_cast<size_t>(i)] <= 0) return c.error("kernel size {} on axis {}: must be > 0", g.kernel[static_cast<size_t>(i)], i);
    if (g.stride[static_cast<size_t>(i)] <= 0) return c.error("stride {} on axis {}: must be > 0", g.stride[static_cast<size_t>(i)], i);
    if (g.dilation[static_cast<size_t>(i)] <= 0) return c.error("dilation {} on axis {}: must be > 0", g.dilation[static_cast<size_t>(i)], i);
  }
  return g;
}

// Convolution and Deconvolution: weights [out, in/group, k...] resp. [in, out/group, k...],
// which are ONNX Conv's and ConvTranspose's layouts; symmetric pads.
Status map_conv(LayerCtx& c, bool transposed) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const auto& p = c.layer().convolution_param();
  const ValueId x = c.bottom(0);
  const Dims& xd = c.dims(x);
  if (p.axis() != 1 && p.axis() != 1 - static_cast<int>(xd.size()))
    return c.error("axis {}: qmap maps convolution over axis 1 (N x C x spatial) only", p.axis());
  if (xd.size() < 3) return c.error("bottom has shape {}: convolution needs N x C x spatial", dims_str(xd));
  const int spatial = static_cast<int>(xd.size()) - 2;
  QMAP_ASSIGN_OR_RETURN(ConvGeometry geo, conv_geometry(c, p, spatial));
  const int64_t cin = xd[1];
  const int64_t cout = p.num_output();
  const int64_t group = p.group();
  if (cout <= 0) return c.error("num_output {}: must be > 0", cout);
  if (group <= 0 || cin % group != 0 || cout % group != 0)
    return c.error("group {}: must divide the input channels {} and num_output {}", group, cin, cout);
  Dims wshape = transposed ? Dims{cin, cout / group} : Dims{cout, cin / group};
  wshape.insert(wshape.end(), geo.kernel.begin(), geo.kernel.end());
  QMAP_RETURN_IF_ERROR(c.expect_blobs(p.bias_term() ? 2 : 1, p.bias_term() ? "weights, bias" : "weights"));
  QMAP_ASSIGN_OR_RETURN(Tensor w, c.blob(0, wshape, "weights"));
  std::vector<ValueId> ins = {x, c.constant("weight", w)};
  if (p.bias_term()) {
    QMAP_ASSIGN_OR_RETURN(Tensor b, c.blob(1, {cout}, "bias"));
    ins.push_back(c.constant("bias", b));
  }
  Dims pads = geo.pad;
  pads.insert(pads.end(), geo.pad.begin(), geo.pad.end());
  Attrs a = {{"kernel_shape", geo.kernel}, {"strides", geo.stride}, {"pads", pads},
             {"dilations", geo.dilation}, {"group", group}};
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1(transposed ? "ConvTranspose" : "Conv", "", ins, a));
  c.set_top(0, y);
  return ok_status();
}

Status map_convolution(LayerCtx& c) { return map_conv(c, false); }
Status map_deconvolution(LayerCtx& c) { return map_conv(c, true); }

// InnerProduct: Flatten(axis) -> Gemm(transB = !transpose) -> Reshape back to the leading
// axes when axis != 1. Caffe's weight is num_output x K (K x num_output with transpose).
Status map_inner_product(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const auto& p = c.layer().inner_product_param();
  ValueId x = c.bottom(0);
  const Dims xd = c.dims(x);
  QMAP_ASSIGN_OR_RETURN(int axis, c.canonical_axis(p.axis(), static_cast<int>(xd.size()), "axis"));
  const int64_t n = p.num_output();
  if (n <= 0) return c.error("num_output {}: must be > 0", n);
  const int64_t k = prod(xd, static_cast<size_t>(axis), xd.size());
  QMAP_RETURN_IF_ERROR(c.expect_blobs(p.bias_term() ? 2 : 1, p.bias_term() ? "weights, bias" : "weights"));
  QMAP_ASSIGN_OR_RETURN(Tensor w, c.blob(0, p.transpose() ? Dims{k, n} : Dims{n, k}, "weights"));
  if (!(xd.size() == 2 && axis == 1)) {
    QMAP_ASSIGN_OR_RETURN(x, c.node1("Flatten", "flatten", {x}, {{"axis", int64_t{axis}}}));
  }
  std::vector<ValueId> ins = {x, c.constant("weight", w)};
  if (p.bias_term()) {
    QMAP_ASSIGN_OR_RETURN(Tensor b, c.blob(1, {n}, "bias"));
    ins.push_back(c.constant("bias", b));
  }
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("Gemm", axis == 1 ? "" : "gemm", ins,
                                            {{"transB", int64_t{p.transpose() ? 0 : 1}}}));
  if (axis != 1) {
    Dims out(xd.begin(), xd.begin() + axis);
    out.push_back(n);
    QMAP_ASSIGN_OR_RETURN(y, reshape_to(c, y, out, "reshape"));
  }
  c.set_top(0, y);
  return ok_status();
}

// ---------------------------------------------------------------- pooling

// Caffe's pooled size on one axis (PoolingLayer::Reshape): ceil (default) or floor of
// (in + 2 pad - k) / stride, plus one, then one less when padding is used and the last
// window would start at or past in + pad.
int64_t caffe_pooled_size(int64_t in, int64_t k, int64_t s, int64_t pad, bool ceil_mode) {
  const int64_t span = in + 2 * pad - k;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (pad > 0 && (out - 1) * s >= in + pad) --out;
  return out;
}

// Pooling. Output size and windows are Caffe's exactly:
// - MAX: MaxPool with pads [p, p, e, e], e chosen so ONNX floor-mode pooling yields Caffe's
//   (ceil-rounded, clipped) output count; ONNX ignores padded cells in MAX, as Caffe does.
// - AVE: Caffe divides by the window clipped to [-pad, in + pad) (padding counted, the part
//   beyond in + pad not). AveragePool(count_include_pad = 1) with the same pads divides by
//   k_h * k_w everywhere (every floor-mode window lies inside the padded input), so where a
//   last window runs past in + pad a constant per-position factor k_h*k_w / caffe_count
//   follows (a Mul); no exact ONNX attribute combination gives Caffe's divisor there.
// - global_pooling: GlobalMaxPool / GlobalAveragePool.
Status map_pooling(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 2));
  if (c.num_tops() > 1) return c.error("has 2 tops: the max-index (mask) top is not supported");
  const auto& p = c.layer().pooling_param();
  const ValueId x = c.bottom(0);
  const Dims& xd = c.dims(x);
  if (xd.size() != 4) return c.error("bottom has shape {}: Caffe pools N x C x H x W blobs", dims_str(xd));
  if (p.pool() == caffe::PoolingParameter::STOCHASTIC)
    return c.error("pool STOCHASTIC: not supported (its test-time output is a probability-weighted average)");
  const bool is_max = p.pool() == caffe::PoolingParameter::MAX;
  if (p.global_pooling()) {
    if (p.pad() != 0 || p.pad_h() != 0 || p.pad_w() != 0 || p.stride() != 1 || p.has_stride_h() || p.has_stride_w())
      return c.error("global_pooling with pad or stride: Caffe requires pad 0 and stride 1 for global pooling");
    QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1(is_max ? "GlobalMaxPool" : "GlobalAveragePool", "", {x}));
    c.set_top(0, y);
    return ok_status();
  }
  // Caffe: kernel_size or kernel_h + kernel_w; pad/stride or their _h/_w forms.
  if (p.has_kernel_size() == (p.has_kernel_h() || p.has_kernel_w()))
    return c.error("give either kernel_size or kernel_h and kernel_w");
  if (!p.has_kernel_size() && !(p.has_kernel_h() && p.has_kernel_w()))
    return c.error("kernel_h and kernel_w must be given together");
  if (p.has_pad() && (p.has_pad_h() || p.has_pad_w())) return c.error("pad and pad_h/pad_w are both given: give one");
  if (p.has_stride() && (p.has_stride_h() || p.has_stride_w()))
    return c.error("stride and stride_h/stride_w are both given: give one");
  const Dims k = p.has_kernel_size() ? Dims{p.kernel_size(), p.kernel_size()} : Dims{p.kernel_h(), p.kernel_w()};
  const Dims pad = p.has_pad_h() || p.has_pad_w() ? Dims{p.pad_h(), p.pad_w()} : Dims{p.pad(), p.pad()};
  const Dims s = p.has_stride_h() || p.has_stride_w() ? Dims{p.stride_h(), p.stride_w()} : Dims{p.stride(), p.stride()};
  const bool ceil_mode = p.round_mode() == caffe::PoolingParameter::CEIL;
  Dims out(2), end_pad(2);
  for (size_t a = 0; a < 2; ++a) {
    const int64_t in = xd[a + 2];
    if (k[a] <= 0 || s[a] <= 0) return c.error("kernel {} and stride {}: must be > 0", dims_str(k), dims_str(s));
    if (pad[a] >= k[a]) return c.error("pad {} on axis {}: Caffe requires pad < kernel ({})", pad[a], a + 2, k[a]);
    if (in + 2 * pad[a] < k[a])
      return c.error("kernel {} on axis {} is larger than the padded input {}: no window fits", k[a], a + 2, in + 2 * pad[a]);
    out[a] = caffe_pooled_size(in, k[a], s[a], pad[a], ceil_mode);
    if ((out[a] - 1) * s[a] - pad[a] >= in)
      return c.error("the last window on axis {} starts at {}, past the input's {} cells: Caffe would output an empty window there (stride > kernel without padding); not supported",
                     a + 2, (out[a] - 1) * s[a] - pad[a], in);
    // End pad that makes floor((in + pad + e - k) / s) + 1 == out; never negative.
    end_pad[a] = std::max<int64_t>(0, (out[a] - 1) * s[a] + k[a] - in - pad[a]);
  }
  Attrs a = {{"kernel_shape", k}, {"strides", s}, {"pads", Dims{pad[0], pad[1], end_pad[0], end_pad[1]}}};
  if (is_max) {
    QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("MaxPool", "", {x}, a));
    c.set_top(0, y);
    return ok_status();
  }
  a["count_include_pad"] = int64_t{1};
  // Caffe's divisor per output position (separable: rows times columns).
  std::vector<std::vector<int64_t>> count(2);
  bool exact = true;
  for (size_t ax = 0; ax < 2; ++ax)
    for (int64_t o = 0; o < out[ax]; ++o) {
      const int64_t start = o * s[ax] - pad[ax];
      const int64_t end = std::min(start + k[ax], xd[ax + 2] + pad[ax]);
      count[ax].push_back(end - start);
      exact = exact && end - start == k[ax];
    }
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("AveragePool", exact ? "" : "pool", {x}, a));
  if (!exact) {
    Tensor f(DType::kFloat32, {out[0], out[1]});
    auto fd = f.data<float>();
    const double full = static_cast<double>(k[0] * k[1]);
    for (int64_t i = 0; i < out[0]; ++i)
      for (int64_t j = 0; j < out[1]; ++j)
        fd[static_cast<size_t>(i * out[1] + j)] =
            static_cast<float>(full / static_cast<double>(count[0][static_cast<size_t>(i)] * count[1][static_cast<size_t>(j)]));
    QMAP_ASSIGN_OR_RETURN(y, c.node1("Mul", "", {y, c.constant("divisor_fix", f)}));
  }
  c.set_top(0, y);
  return ok_status();
}

// ---------------------------------------------------------------- activations

Status map_unary(LayerCtx& c, const char* op, Attrs attrs = {}) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1(op, "", {c.bottom(0)}, std::move(attrs)));
  c.set_top(0, y);
  return ok_status();
}

Status map_relu(LayerCtx& c) {
  const float slope = c.layer().relu_param().negative_slope();
  if (slope == 0.f) return map_unary(c, "Relu");
  return map_unary(c, "LeakyRelu", {{"alpha", slope}});
}
Status map_sigmoid(LayerCtx& c) { return map_unary(c, "Sigmoid"); }
Status map_tanh(LayerCtx& c) { return map_unary(c, "Tanh"); }
Status map_absval(LayerCtx& c) { return map_unary(c, "Abs"); }
Status map_elu(LayerCtx& c) { return map_unary(c, "Elu", {{"alpha", c.layer().elu_param().alpha()}}); }

// Per-channel parameter of an N x C x ... blob as a [C, 1, ..., 1] constant that ONNX
// broadcasting applies along axis 1; a single shared value stays [1].
Dims channel_broadcast_dims(int64_t count, int rank) {
  Dims d = {count};
  for (int i = 2; i < rank; ++i) d.push_back(1);
  return d;
}

Status map_prelu(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const ValueId x = c.bottom(0);
  const Dims& xd = c.dims(x);
  if (xd.size() < 2) return c.error("bottom has shape {}: PReLU needs N x C x ...", dims_str(xd));
  const bool shared = c.layer().prelu_param().channel_shared();
  const int64_t n = shared ? 1 : xd[1];
  QMAP_RETURN_IF_ERROR(c.expect_blobs(1, "slope"));
  QMAP_ASSIGN_OR_RETURN(Tensor slope, c.blob(0, {n}, "slope",
                                             shared ? Dims{1} : channel_broadcast_dims(n, static_cast<int>(xd.size()))));
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("PRelu", "", {x, c.constant("slope", slope)}));
  c.set_top(0, y);
  return ok_status();
}

// Power: y = (shift + scale * x) ^ power, as Mul, Add and Pow steps (identity steps omitted).
Status map_power(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const auto& p = c.layer().power_param();
  ValueId y = c.bottom(0);
  bool any = false;
  if (p.scale() != 1.f) {
    QMAP_ASSIGN_OR_RETURN(y, c.node1("Mul", "scale", {y, c.scalar("scale", p.scale())}));
    any = true;
  }
  if (p.shift() != 0.f) {
    QMAP_ASSIGN_OR_RETURN(y, c.node1("Add", "shift", {y, c.scalar("shift", p.shift())}));
    any = true;
  }
  if (p.power() != 1.f || !any) {
    if (p.power() == 1.f) {
      QMAP_ASSIGN_OR_RETURN(y, c.node1("Identity", "", {y}));
    } else {
      QMAP_ASSIGN_OR_RETURN(y, c.node1("Pow", "", {y, c.scalar("power", p.power())}));
    }
  }
  c.set_top(0, y);
  return ok_status();
}

// ---------------------------------------------------------------- normalization, scale

// BatchNorm: blobs mean, variance, scale_factor; Caffe divides the stored statistics by
// the factor (0 meaning 0). Normalizes along axis 1 with no affine part (Scale follows).
Status map_batch_norm(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const auto& p = c.layer().batch_norm_param();
  if (p.has_use_global_stats() && !p.use_global_stats())
    return c.error("use_global_stats false: the layer would normalize with the statistics of each batch; deploy models use the stored statistics (set it true or remove it)");
  const ValueId x = c.bottom(0);
  const Dims& xd = c.dims(x);
  if (xd.size() < 2) return c.error("bottom has shape {}: BatchNorm needs N x C x ...", dims_str(xd));
  const int64_t ch = xd[1];
  QMAP_RETURN_IF_ERROR(c.expect_blobs(3, "mean, variance, scale_factor"));
  QMAP_ASSIGN_OR_RETURN(Tensor mean, c.blob(0, {ch}, "mean"));
  QMAP_ASSIGN_OR_RETURN(Tensor var, c.blob(1, {ch}, "variance"));
  QMAP_ASSIGN_OR_RETURN(Tensor sf, c.blob(2, {1}, "scale_factor"));
  const float f = sf.data<float>()[0];
  const float inv = f == 0.f ? 0.f : 1.f / f;  // Caffe: scale_factor 0 means the statistics are 0
  Tensor m = mean.clone(), v = var.clone();
  for (float& e : m.data<float>()) e *= inv;
  for (float& e : v.data<float>()) e *= inv;
  Tensor ones(DType::kFloat32, {ch}), zeros(DType::kFloat32, {ch});
  for (float& e : ones.data<float>()) e = 1.f;
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("BatchNormalization", "",
                                            {x, c.constant("gamma", ones), c.constant("beta", zeros),
                                             c.constant("mean", m), c.constant("var", v)},
                                            {{"epsilon", p.eps()}}));
  c.set_top(0, y);
  return ok_status();
}

// Shape of a Scale/Bias parameter and its broadcastable form: Caffe applies a parameter
// of shape bottom[0].shape[axis : axis + n] along those axes; trailing 1s make ONNX
// broadcasting (right-aligned) apply it the same way.
struct ParamShape {
  Dims caffe;   // as stored
  Dims ir;      // with trailing 1s
};

Result<ParamShape> param_shape(const LayerCtx& c, const Dims& xd, int64_t axis_param, int64_t num_axes) {
  const int rank = static_cast<int>(xd.size());
  ParamShape s;
  if (num_axes == 0) {  // scalar
    s.caffe = {};
    s.ir = {};
    return s;
  }
  QMAP_ASSIGN_OR_RETURN(int axis, c.canonical_axis(axis_param, rank, "axis"));
  if (num_axes < -1) return c.error("num_axes {}: must be -1 or >= 0", num_axes);
  const int end = num_axes == -1 ? rank : axis + static_cast<int>(num_axes);
  if (end > rank) return c.error("axis {} + num_axes {} exceeds the bottom's rank {}", axis, num_axes, rank);
  s.caffe.assign(xd.begin() + axis, xd.begin() + end);
  s.ir = s.caffe;
  for (int i = end; i < rank; ++i) s.ir.push_back(1);
  return s;
}

// Scale (multiplier, optional bias) and Bias: blob or second bottom, broadcast from `axis`.
Status map_scale_or_bias(LayerCtx& c, bool is_scale) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 2, 1, 1));
  const ValueId x = c.bottom(0);
  const Dims xd = c.dims(x);
  const int64_t axis = is_scale ? c.layer().scale_param().axis() : c.layer().bias_param().axis();
  const int64_t num_axes = is_scale ? c.layer().scale_param().num_axes() : c.layer().bias_param().num_axes();
  const bool bias_term = is_scale && c.layer().scale_param().bias_term();
  ValueId factor;
  ParamShape ps;
  int next_blob = 0;
  if (c.num_bottoms() == 2) {
    // The parameter is bottom[1]; its rank sets num_axes (Caffe ignores num_axes then).
    const ValueId pv = c.bottom(1);
    const Dims pd = c.dims(pv);
    QMAP_ASSIGN_OR_RETURN(ps, param_shape(c, xd, pd.empty() ? 0 : axis, static_cast<int64_t>(pd.size())));
    if (ps.caffe != pd)
      return c.error("bottom 1 has shape {}: from axis {} bottom 0 ({}) needs {}", dims_str(pd), axis, dims_str(xd),
                     dims_str(ps.caffe));
    factor = pv;
    if (ps.ir != ps.caffe) {
      QMAP_ASSIGN_OR_RETURN(factor, reshape_to(c, pv, ps.ir, is_scale ? "scale_reshape" : "bias_reshape"));
    }
    QMAP_RETURN_IF_ERROR(c.expect_blobs(bias_term ? 1 : 0, "bias"));
  } else {
    QMAP_ASSIGN_OR_RETURN(ps, param_shape(c, xd, axis, num_axes));
    QMAP_RETURN_IF_ERROR(c.expect_blobs(bias_term ? 2 : 1, bias_term ? "scale, bias" : (is_scale ? "scale" : "bias")));
    QMAP_ASSIGN_OR_RETURN(Tensor t, c.blob(0, ps.caffe, is_scale ? "scale" : "bias", ps.ir.empty() ? Dims{1} : ps.ir));
    factor = c.constant(is_scale ? "scale" : "bias", t);
    next_blob = 1;
  }
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1(is_scale ? "Mul" : "Add", bias_term ? "mul" : "", {x, factor}));
  if (bias_term) {
    QMAP_ASSIGN_OR_RETURN(Tensor b, c.blob(next_blob, ps.caffe, "bias", ps.ir.empty() ? Dims{1} : ps.ir));
    QMAP_ASSIGN_OR_RETURN(y, c.node1("Add", "", {y, c.constant("bias", b)}));
  }
  c.set_top(0, y);
  return ok_status();
}

Status map_scale(LayerCtx& c) { return map_scale_or_bias(c, true); }
Status map_bias(LayerCtx& c) { return map_scale_or_bias(c, false); }

// LRN. ACROSS_CHANNELS is ONNX LRN (bias = k). WITHIN_CHANNEL is Caffe's own composition:
// x * (1 + alpha * avgpool_size(x^2))^-beta, the average over a size x size window with
// zero padding counted (size is odd, pad (size-1)/2, stride 1: every window is full).
Status map_lrn(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const auto& p = c.layer().lrn_param();
  const int64_t size = p.local_size();
  if (size < 1 || size % 2 == 0) return c.error("local_size {}: Caffe requires an odd size", size);
  const ValueId x = c.bottom(0);
  if (c.rank(x) != 4) return c.error("bottom has shape {}: Caffe's LRN takes N x C x H x W", dims_str(c.dims(x)));
  if (p.norm_region() == caffe::LRNParameter::ACROSS_CHANNELS) {
    QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("LRN", "", {x}, {{"size", size}, {"alpha", p.alpha()}, {"beta", p.beta()},
                                                                {"bias", p.k()}}));
    c.set_top(0, y);
    return ok_status();
  }
  const int64_t pad = (size - 1) / 2;
  QMAP_ASSIGN_OR_RETURN(ValueId sq, c.node1("Mul", "square", {x, x}));
  QMAP_ASSIGN_OR_RETURN(ValueId avg, c.node1("AveragePool", "pool", {sq},
                                              {{"kernel_shape", Dims{size, size}}, {"strides", Dims{1, 1}},
                                               {"pads", Dims{pad, pad, pad, pad}}, {"count_include_pad", int64_t{1}}}));
  QMAP_ASSIGN_OR_RETURN(ValueId sc, c.node1("Mul", "alpha", {avg, c.scalar("alpha", p.alpha())}));
  QMAP_ASSIGN_OR_RETURN(ValueId sh, c.node1("Add", "one", {sc, c.scalar("one", 1.f)}));
  QMAP_ASSIGN_OR_RETURN(ValueId pw, c.node1("Pow", "pow", {sh, c.scalar("neg_beta", -p.beta())}));
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("Mul", "", {x, pw}));
  c.set_top(0, y);
  return ok_status();
}

// Normalize (SSD): y = x / sqrt(sum x^2 + eps) * scale, the sum over C x H x W per sample
// (across_spatial) or over C per position; scale is one value or one per channel.
Status map_normalize(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const auto& p = c.layer().norm_param();
  const ValueId x = c.bottom(0);
  const Dims xd = c.dims(x);
  if (xd.size() < 2) return c.error("bottom has shape {}: Normalize needs N x C x ...", dims_str(xd));
  Dims axes = {1};
  if (p.across_spatial())
    for (size_t i = 2; i < xd.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  QMAP_RETURN_IF_ERROR(c.expect_blobs(1, "scale"));
  const int64_t n = p.channel_shared() ? 1 : xd[1];
  QMAP_ASSIGN_OR_RETURN(Tensor scale, c.blob(0, {n}, "scale",
                                             p.channel_shared() ? Dims{1} : channel_broadcast_dims(n, static_cast<int>(xd.size()))));
  QMAP_ASSIGN_OR_RETURN(ValueId ss, c.node1("ReduceSumSquare", "sumsq", {x}, {{"axes", axes}, {"keepdims", int64_t{1}}}));
  QMAP_ASSIGN_OR_RETURN(ValueId se, c.node1("Add", "eps", {ss, c.scalar("eps", p.eps())}));
  QMAP_ASSIGN_OR_RETURN(ValueId norm, c.node1("Pow", "sqrt", {se, c.scalar("half", 0.5f)}));
  QMAP_ASSIGN_OR_RETURN(ValueId q, c.node1("Div", "div", {x, norm}));
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("Mul", "", {q, c.constant("scale", scale)}));
  c.set_top(0, y);
  return ok_status();
}

// ---------------------------------------------------------------- elementwise, softmax

// Eltwise: SUM with coefficients (Mul by each coefficient other than 1; -1 as Sub), PROD
// as a Mul chain, MAX as one variadic Max. Caffe requires equal shapes (no broadcasting).
Status map_eltwise(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(2, -1, 1, 1));
  const auto& p = c.layer().eltwise_param();
  const Dims d0 = c.dims(c.bottom(0));
  for (int i = 1; i < c.num_bottoms(); ++i)
    if (c.dims(c.bottom(i)) != d0)
      return c.error("bottom {} has shape {} but bottom 0 has {}: Eltwise needs equal shapes", i,
                     dims_str(c.dims(c.bottom(i))), dims_str(d0));
  if (p.coeff_size() > 0 && (p.operation() != caffe::EltwiseParameter::SUM || p.coeff_size() != c.num_bottoms()))
    return c.error("{} coefficients for {} bottoms: coefficients apply to SUM, one per bottom", p.coeff_size(), c.num_bottoms());
  ValueId y = kNoValue;
  if (p.operation() == caffe::EltwiseParameter::MAX) {
    std::vector<ValueId> ins;
    for (int i = 0; i < c.num_bottoms(); ++i) ins.push_back(c.bottom(i));
    QMAP_ASSIGN_OR_RETURN(y, c.node1("Max", "", ins));
  } else if (p.operation() == caffe::EltwiseParameter::PROD) {
    y = c.bottom(0);
    for (int i = 1; i < c.num_bottoms(); ++i) {
      QMAP_ASSIGN_OR_RETURN(y, c.node1("Mul", i + 1 == c.num_bottoms() ? "" : fmt::format("mul{}", i), {y, c.bottom(i)}));
    }
  } else {
    const int n = c.num_bottoms();
    auto coeff = [&](int i) { return p.coeff_size() > 0 ? p.coeff(i) : 1.f; };
    for (int i = 0; i < n; ++i) {
      ValueId term = c.bottom(i);
      const float k = coeff(i);
      const bool subtract = i > 0 && k == -1.f;
      if (k != 1.f && !subtract) {
        QMAP_ASSIGN_OR_RETURN(term, c.node1("Mul", fmt::format("coeff{}", i), {term, c.scalar(fmt::format("coeff{}", i), k)}));
      }
      if (i == 0) {
        y = term;
        continue;
      }
      QMAP_ASSIGN_OR_RETURN(y, c.node1(subtract ? "Sub" : "Add", i + 1 == n ? "" : fmt::format("sum{}", i), {y, term}));
    }
  }
  c.set_top(0, y);
  return ok_status();
}

Status map_softmax(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  QMAP_ASSIGN_OR_RETURN(int axis, c.canonical_axis(c.layer().softmax_param().axis(), c.rank(c.bottom(0)), "axis"));
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("Softmax", "", {c.bottom(0)}, {{"axis", int64_t{axis}}}));
  c.set_top(0, y);
  return ok_status();
}

// Dropout is the identity at test time (Caffe scales during training); forks with
// scale_train false multiply by (1 - ratio) at test time instead.
Status map_dropout(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const auto& p = c.layer().dropout_param();
  if (!p.scale_train()) {
    QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("Mul", "", {c.bottom(0), c.scalar("keep", 1.f - p.dropout_ratio())}));
    c.set_top(0, y);
    return ok_status();
  }
  c.alias_top(0, c.bottom(0));
  return ok_status();
}

// Split copies its bottom to every top: the tops alias the bottom's value.
Status map_split(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, -1));
  for (int i = 0; i < c.num_tops(); ++i) c.alias_top(i, c.bottom(0));
  return ok_status();
}

// Silence consumes its bottoms and produces nothing.
Status map_silence(LayerCtx& c) { return c.expect_io(1, -1, 0, 0); }

// ---------------------------------------------------------------- shape and data movement

Status map_concat(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, -1, 1, 1));
  const auto& p = c.layer().concat_param();
  const int rank = c.rank(c.bottom(0));
  int axis;
  if (p.has_concat_dim()) {
    axis = static_cast<int>(p.concat_dim());
    if (axis >= rank) return c.error("concat_dim {} is out of range for rank {}", axis, rank);
  } else {
    QMAP_ASSIGN_OR_RETURN(axis, c.canonical_axis(p.axis(), rank, "axis"));
  }
  std::vector<ValueId> ins;
  for (int i = 0; i < c.num_bottoms(); ++i) ins.push_back(c.bottom(i));
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("Concat", "", ins, {{"axis", int64_t{axis}}}));
  c.set_top(0, y);
  return ok_status();
}

// Slice: slice_point (one fewer than the tops) or an even split, along axis (or slice_dim).
Status map_slice(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, -1));
  const auto& p = c.layer().slice_param();
  const ValueId x = c.bottom(0);
  const Dims xd = c.dims(x);
  int axis;
  if (p.has_slice_dim()) {
    axis = static_cast<int>(p.slice_dim());
    if (axis >= static_cast<int>(xd.size())) return c.error("slice_dim {} is out of range for rank {}", axis, xd.size());
  } else {
    QMAP_ASSIGN_OR_RETURN(axis, c.canonical_axis(p.axis(), static_cast<int>(xd.size()), "axis"));
  }
  const int64_t len = xd[static_cast<size_t>(axis)];
  const int tops = c.num_tops();
  std::vector<int64_t> sizes;
  if (p.slice_point_size() > 0) {
    if (p.slice_point_size() != tops - 1)
      return c.error("{} slice_point values for {} tops: give one fewer than the tops", p.slice_point_size(), tops);
    int64_t prev = 0;
    for (int i = 0; i < p.slice_point_size(); ++i) {
      const int64_t sp = p.slice_point(i);
      if (sp <= prev || sp >= len)
        return c.error("slice_point {} = {}: points must increase strictly inside (0, {}) (axis {} has {} entries)", i, sp,
                       len, axis, len);
      sizes.push_back(sp - prev);
      prev = sp;
    }
    sizes.push_back(len - prev);
  } else {
    if (len % tops != 0) return c.error("axis {} has {} entries: not divisible into {} equal tops", axis, len, tops);
    sizes.assign(static_cast<size_t>(tops), len / tops);
  }
  if (tops == 1) {
    QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("Identity", "", {x}));
    c.set_top(0, y);
    return ok_status();
  }
  QMAP_ASSIGN_OR_RETURN(auto outs, c.node("Split", "", {x, c.int64s("split", sizes)}, {{"axis", int64_t{axis}}}, tops));
  for (int i = 0; i < tops; ++i) c.set_top(i, outs[static_cast<size_t>(i)]);
  return ok_status();
}

// Flatten(axis, end_axis): ONNX Flatten when it is the same (axis 1 through the end),
// otherwise a Reshape to Caffe's static output shape.
Status map_flatten(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const auto& p = c.layer().flatten_param();
  const ValueId x = c.bottom(0);
  const Dims xd = c.dims(x);
  const int rank = static_cast<int>(xd.size());
  QMAP_ASSIGN_OR_RETURN(int a, c.canonical_axis(p.axis(), rank, "axis"));
  QMAP_ASSIGN_OR_RETURN(int e, c.canonical_axis(p.end_axis(), rank, "end_axis"));
  if (e < a) return c.error("end_axis {} precedes axis {}", p.end_axis(), p.axis());
  ValueId y;
  if (a == 1 && e == rank - 1) {
    QMAP_ASSIGN_OR_RETURN(y, c.node1("Flatten", "", {x}, {{"axis", int64_t{1}}}));
  } else {
    Dims out(xd.begin(), xd.begin() + a);
    out.push_back(prod(xd, static_cast<size_t>(a), static_cast<size_t>(e) + 1));
    out.insert(out.end(), xd.begin() + e + 1, xd.end());
    QMAP_ASSIGN_OR_RETURN(y, reshape_to(c, x, out, ""));
  }
  c.set_top(0, y);
  return ok_status();
}

// Reshape: Caffe's rules (0 copies the bottom's dim, one -1 is inferred, axis/num_axes
// select the replaced range) resolved here to a static shape.
Status map_reshape(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const auto& p = c.layer().reshape_param();
  const ValueId x = c.bottom(0);
  const Dims xd = c.dims(x);
  const int rank = static_cast<int>(xd.size());
  // Caffe: a negative axis counts from the end with -1 meaning "after the last axis".
  const int64_t start = p.axis() >= 0 ? p.axis() : rank + p.axis() + 1;
  if (start < 0 || start > rank) return c.error("axis {} is out of range for a rank-{} bottom", p.axis(), rank);
  if (p.num_axes() < -1) return c.error("num_axes {}: must be -1 or >= 0", p.num_axes());
  const int64_t end = p.num_axes() == -1 ? rank : start + p.num_axes();
  if (end > rank) return c.error("axis {} + num_axes {} exceeds the bottom's rank {}", start, p.num_axes(), rank);
  Dims mid;
  int infer_at = -1;
  for (int i = 0; i < p.shape().dim_size(); ++i) {
    const int64_t d = p.shape().dim(i);
    if (d == 0) {
      if (start + i >= rank) return c.error("shape dim {} is 0 (copy) but the bottom has no axis {}", i, start + i);
      mid.push_back(xd[static_cast<size_t>(start + i)]);
    } else if (d == -1) {
      if (infer_at >= 0) return c.error("shape has more than one -1: at most one dimension can be inferred");
      infer_at = static_cast<int>(mid.size());
      mid.push_back(1);
    } else if (d < -1) {
      return c.error("shape dim {} is {}: dims must be >= -1", i, d);
    } else {
      mid.push_back(d);
    }
  }
  Dims out(xd.begin(), xd.begin() + start);
  const size_t mid_at = out.size();
  out.insert(out.end(), mid.begin(), mid.end());
  out.insert(out.end(), xd.begin() + end, xd.end());
  const int64_t total = num_elements(xd);
  if (infer_at >= 0) {
    const int64_t known = num_elements(out);
    if (known == 0 || total % known != 0)
      return c.error("cannot infer the -1 dimension: {} elements do not divide by {}", total, known);
    out[mid_at + static_cast<size_t>(infer_at)] = total / known;
  }
  if (num_elements(out) != total)
    return c.error("output shape {} has {} elements: the bottom {} has {}", dims_str(out), num_elements(out), dims_str(xd), total);
  QMAP_ASSIGN_OR_RETURN(ValueId y, reshape_to(c, x, out, ""));
  c.set_top(0, y);
  return ok_status();
}

// Permute (SSD): order lists the new axis order; unlisted axes follow in increasing order.
Status map_permute(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const int rank = c.rank(c.bottom(0));
  Dims perm;
  std::vector<bool> used(static_cast<size_t>(rank), false);
  for (uint32_t o : c.layer().permute_param().order()) {
    if (static_cast<int>(o) >= rank) return c.error("order value {} is out of range for a rank-{} bottom", o, rank);
    if (used[o]) return c.error("order lists axis {} twice", o);
    used[o] = true;
    perm.push_back(o);
  }
  for (int i = 0; i < rank; ++i)
    if (!used[static_cast<size_t>(i)]) perm.push_back(i);
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("Transpose", "", {c.bottom(0)}, {{"perm", perm}}));
  c.set_top(0, y);
  return ok_status();
}

// Crop: bottom 0 cut to bottom 1's dims from `axis` on, at the given offsets (a Slice).
Status map_crop(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(2, 2, 1, 1));
  const auto& p = c.layer().crop_param();
  const Dims xd = c.dims(c.bottom(0));
  const Dims rd = c.dims(c.bottom(1));
  const int rank = static_cast<int>(xd.size());
  if (static_cast<int>(rd.size()) != rank)
    return c.error("bottom 1 has rank {} but bottom 0 has rank {}: they must match", rd.size(), rank);
  QMAP_ASSIGN_OR_RETURN(int axis, c.canonical_axis(p.axis(), rank, "axis"));
  const int n = rank - axis;
  if (p.offset_size() > 1 && p.offset_size() != n)
    return c.error("{} offsets: give none, one, or one per cropped axis ({})", p.offset_size(), n);
  Dims starts, ends, axes;
  for (int i = axis; i < rank; ++i) {
    const int64_t off = p.offset_size() == 0 ? 0 : p.offset(p.offset_size() == 1 ? 0 : i - axis);
    if (off + rd[static_cast<size_t>(i)] > xd[static_cast<size_t>(i)])
      return c.error("axis {}: offset {} + size {} exceeds bottom 0's {}", i, off, rd[static_cast<size_t>(i)],
                     xd[static_cast<size_t>(i)]);
    starts.push_back(off);
    ends.push_back(off + rd[static_cast<size_t>(i)]);
    axes.push_back(i);
  }
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("Slice", "", {c.bottom(0), c.int64s("starts", starts), c.int64s("ends", ends),
                                                          c.int64s("axes", axes)}));
  c.set_top(0, y);
  return ok_status();
}

// Upsample (YOLOv3 fork): nearest neighbour by an integer scale on H and W; Resize with
// asymmetric coordinates and floor rounding replicates each pixel scale x scale times.
Status map_upsample(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const int64_t s = c.layer().upsample_param().scale();
  if (s < 1) return c.error("scale {}: must be >= 1", s);
  const ValueId x = c.bottom(0);
  if (c.rank(x) != 4) return c.error("bottom has shape {}: Upsample takes N x C x H x W", dims_str(c.dims(x)));
  const float f = static_cast<float>(s);
  Tensor scales = Tensor::from_vector<float>({4}, {1.f, 1.f, f, f});
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("Resize", "", {x, kNoValue, c.constant("scales", scales)},
                                            {{"mode", std::string("nearest")},
                                             {"coordinate_transformation_mode", std::string("asymmetric")},
                                             {"nearest_mode", std::string("floor")}}));
  c.set_top(0, y);
  return ok_status();
}

// ArgMax with top_k 1 and out_max_val false: the index as float (Caffe's output type);
// ties pick the last index, as Caffe's descending sort of (value, index) pairs does.
// Without axis Caffe maximizes over everything but axis 0 and outputs N x 1 x 1.
Status map_argmax(LayerCtx& c) {
  QMAP_RETURN_IF_ERROR(c.expect_io(1, 1, 1, 1));
  const auto& p = c.layer().argmax_param();
  if (p.out_max_val() || p.top_k() != 1)
    return c.error("out_max_val {} top_k {}: qmap maps ArgMax with top_k 1 and out_max_val false only", p.out_max_val(),
                   p.top_k());
  ValueId x = c.bottom(0);
  const Dims xd = c.dims(x);
  int axis = 1;
  if (p.has_axis()) {
    QMAP_ASSIGN_OR_RETURN(axis, c.canonical_axis(p.axis(), static_cast<int>(xd.size()), "axis"));
  } else if (xd.size() != 2) {
    QMAP_ASSIGN_OR_RETURN(x, c.node1("Flatten", "flatten", {x}, {{"axis", int64_t{1}}}));
  }
  QMAP_ASSIGN_OR_RETURN(ValueId idx, c.node1("ArgMax", "argmax", {x}, {{"axis", int64_t{axis}}, {"keepdims", int64_t{1}},
                                                                       {"select_last_index", int64_t{1}}}));
  QMAP_ASSIGN_OR_RETURN(ValueId y, c.node1("Cast", p.has_axis() ? "" : "cast", {idx},
                                            {{"to", int64_t{static_cast<int64_t>(DType::kFloat32)}}}));
  if (!p.has_axis()) {
    QMAP_ASSIGN_OR_RETURN(y, reshape_to(c, y, {xd[0], 1, 1}, ""));
  }
  c.set_top(0, y);
  return ok_status();
}

struct LayerEntry {
  const char* type;
  LayerFn fn;
};

constexpr LayerEntry kLayers[] = {
    {"AbsVal", map_absval},
    {"ArgMax", map_argmax},
    {"BatchNorm", map_batch_norm},
    {"Bias", map_bias},
    {"Concat", map_concat},
    {"Convolution", map_convolution},
    {"Crop", map_crop},
    {"Deconvolution", map_deconvolution},
    {"Dropout", map_dropout},
    {"ELU", map_elu},
    {"Eltwise", map_eltwise},
    {"Flatten", map_flatten},
    {"InnerProduct", map_inner_product},
    {"LRN", map_lrn},
    {"Normalize", map_normalize},
    {"PReLU", map_prelu},
    {"Permute", map_permute},
    {"Pooling", map_pooling},
    {"Power", map_power},
    {"ReLU", map_relu},
    {"Reshape", map_reshape},
    {"Scale", map_scale},
    {"Sigmoid", map_sigmoid},
    {"Silence", map_silence},
    {"Slice", map_slice},
    {"Softmax", map_softmax},
    {"Split", map_split},
    {"TanH", map_tanh},
    {"Upsample", map_upsample},
};

// Input layers are handled by the importer itself (they declare graph inputs).
Status map_input_placeholder(LayerCtx& c) { return ok_status(); }

}  // namespace

LayerFn find_layer_fn(const std::string& type) {
  if (type == "Input") return map_input_placeholder;
  for (const LayerEntry& e : kLayers)
    if (type == e.type) return e.fn;
  return nullptr;
}

}  // namespace qmap::caffe_import
