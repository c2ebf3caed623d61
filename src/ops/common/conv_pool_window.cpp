#include "ops/common/conv_pool_window.h"

#include <algorithm>

#include "ops/common/helpers.h"

namespace qmap::ops {

namespace {

template <typename... Args>
Status node_error(const Node& node, fmt::format_string<Args...> f, Args&&... args) {
  return Status::error(fmt::format("{} '{}': {}", node.op_type, node.name,
                                   fmt::format(f, std::forward<Args>(args)...)));
}

// Reads an ints attribute of `size` entries (default: `size` copies of `dflt`), each >= min.
Result<Dims> read_axis_ints(const Node& node, const char* key, size_t size, int64_t dflt,
                            int64_t min) {
  Dims v = attr_ints(node, key, Dims(size, dflt));
  if (v.size() != size)
    return node_error(node, "{} {} has {} values: must have {} for this input", key,
                      dims_str(v), v.size(), size);
  for (int64_t e : v)
    if (e < min)
      return node_error(node, "{} {} has value {}: must be >= {}", key, dims_str(v), e, min);
  return v;
}

Result<std::string> read_auto_pad(const Node& node) {
  std::string p = attr_string(node, "auto_pad", "NOTSET");
  if (p != "NOTSET" && p != "SAME_UPPER" && p != "SAME_LOWER" && p != "VALID")
    return node_error(node, "auto_pad '{}' is not valid: must be NOTSET, SAME_UPPER, SAME_LOWER or VALID", p);
  return p;
}

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

Status check_kernel_shape(const Node& node, const Dims& kernel) {
  if (!node.has_attr("kernel_shape")) return ok_status();
  Dims ks = attr_ints(node, "kernel_shape");
  if (ks != kernel)
    return node_error(node, "kernel_shape {} does not match the weights' spatial dims {}",
                      dims_str(ks), dims_str(kernel));
  return ok_status();
}

}  // namespace

Result<WindowGeometry> window_geometry(const Node& node, const Dims& x, const Dims& kernel,
                                       bool ceil_mode, bool has_dilations) {
  if (x.size() < 3)
    return node_error(node, "input has shape {}: must be N x C x D1 x ... (at least one spatial axis)",
                      dims_str(x));
  const size_t r = x.size() - 2;
  if (kernel.size() != r)
    return node_error(node, "kernel_shape {} has {} axes: the input has {} spatial axes",
                      dims_str(kernel), kernel.size(), r);
  for (int64_t k : kernel)
    if (k < 1) return node_error(node, "kernel shape {} has value {}: must be >= 1", dims_str(kernel), k);
  WindowGeometry g;
  g.batch = x[0];
  g.in_channels = g.out_channels = g.group = x[1];
  g.in.assign(x.begin() + 2, x.end());
  g.kernel = kernel;
  QMAP_ASSIGN_OR_RETURN(g.strides, read_axis_ints(node, "strides", r, 1, 1));
  if (has_dilations) {
    QMAP_ASSIGN_OR_RETURN(g.dilations, read_axis_ints(node, "dilations", r, 1, 1));
  } else {
    g.dilations.assign(r, 1);
  }
  QMAP_ASSIGN_OR_RETURN(g.pads, read_axis_ints(node, "pads", 2 * r, 0, 0));
  QMAP_ASSIGN_OR_RETURN(std::string auto_pad, read_auto_pad(node));
  g.out.resize(r);
  for (size_t d = 0; d < r; ++d) {
    const int64_t in = g.in[d], s = g.strides[d];
    const int64_t eff_k = (kernel[d] - 1) * g.dilations[d] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      // ONNX: output = ceil(input / stride); the total padding is split evenly, the odd
      // element going to the end (SAME_UPPER) or the beginning (SAME_LOWER).
      g.out[d] = ceil_div(in, s);
      const int64_t total = std::max<int64_t>(0, (g.out[d] - 1) * s + eff_k - in);
      g.pads[d] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      g.pads[r + d] = total - g.pads[d];
      continue;
    }
    if (auto_pad == "VALID") g.pads[d] = g.pads[r + d] = 0;
    const int64_t span = in + g.pads[d] + g.pads[r + d] - eff_k;
    if (span < 0)
      return node_error(node,
                        "spatial axis {} of input shape {} is {} with pads {}+{}: smaller than the "
                        "dilated kernel size {}",
                        d, dims_str(x), in, g.pads[d], g.pads[r + d], eff_k);
    g.out[d] = (ceil_mode ? ceil_div(span, s) : span / s) + 1;
    // ceil_mode: a last window starting in the end padding (past the input) is dropped.
    if (ceil_mode && (g.out[d] - 1) * s >= in + g.pads[d]) --g.out[d];
  }
  return g;
}

Result<WindowGeometry> conv_geometry(const Node& node, const Dims& x, const Dims& w) {
  if (x.size() < 3)
    return node_error(node, "input X has shape {}: must be N x C x D1 x ... (at least one spatial axis)",
                      dims_str(x));
  if (w.size() != x.size())
    return node_error(node, "weights W have shape {}: must have the input's rank {} (Cout x Cin/group x kernel...)",
                      dims_str(w), x.size());
  const int64_t group = attr_int(node, "group", 1);
  if (group < 1) return node_error(node, "group {} must be >= 1", group);
  if (x[1] != w[1] * group)
    return node_error(node, "input channels {} must equal W's dim 1 ({}) x group ({}); W has shape {}",
                      x[1], w[1], group, dims_str(w));
  if (w[0] % group != 0)
    return node_error(node, "output channels {} (W's dim 0) are not divisible by group {}", w[0], group);
  const Dims kernel(w.begin() + 2, w.end());
  QMAP_RETURN_IF_ERROR(check_kernel_shape(node, kernel));
  QMAP_ASSIGN_OR_RETURN(WindowGeometry g, window_geometry(node, x, kernel, false, true));
  g.out_channels = w[0];
  g.group = group;
  return g;
}

Result<WindowGeometry> pool_geometry(const Node& node, const Dims& x, bool has_dilations) {
  if (!node.has_attr("kernel_shape"))
    return node_error(node, "attribute kernel_shape is required");
  const int64_t ceil_mode = attr_int(node, "ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1)
    return node_error(node, "ceil_mode {} must be 0 or 1", ceil_mode);
  return window_geometry(node, x, attr_ints(node, "kernel_shape"), ceil_mode == 1, has_dilations);
}

Dims window_output_dims(const WindowGeometry& g) {
  Dims y{g.batch, g.out_channels};
  y.insert(y.end(), g.out.begin(), g.out.end());
  return y;
}

Result<WindowGeometry> conv_transpose_geometry(const Node& node, const Dims& x, const Dims& w) {
  if (x.size() < 3)
    return node_error(node, "input X has shape {}: must be N x C x D1 x ... (at least one spatial axis)",
                      dims_str(x));
  if (w.size() != x.size())
    return node_error(node, "weights W have shape {}: must have the input's rank {} (Cin x Cout/group x kernel...)",
                      dims_str(w), x.size());
  const size_t r = x.size() - 2;
  WindowGeometry g;
  g.group = attr_int(node, "group", 1);
  if (g.group < 1) return node_error(node, "group {} must be >= 1", g.group);
  g.batch = x[0];
  g.in_channels = x[1];
  if (w[0] != x[1])
    return node_error(node, "weights W have shape {}: dim 0 must equal the input channels {}",
                      dims_str(w), x[1]);
  if (x[1] % g.group != 0)
    return node_error(node, "input channels {} are not divisible by group {}", x[1], g.group);
  g.out_channels = w[1] * g.group;
  g.in.assign(x.begin() + 2, x.end());
  g.kernel.assign(w.begin() + 2, w.end());
  QMAP_RETURN_IF_ERROR(check_kernel_shape(node, g.kernel));
  QMAP_ASSIGN_OR_RETURN(g.strides, read_axis_ints(node, "strides", r, 1, 1));
  QMAP_ASSIGN_OR_RETURN(g.dilations, read_axis_ints(node, "dilations", r, 1, 1));
  QMAP_ASSIGN_OR_RETURN(g.pads, read_axis_ints(node, "pads", 2 * r, 0, 0));
  QMAP_ASSIGN_OR_RETURN(Dims out_pad, read_axis_ints(node, "output_padding", r, 0, 0));
  QMAP_ASSIGN_OR_RETURN(std::string auto_pad, read_auto_pad(node));
  Dims out_shape = attr_ints(node, "output_shape");
  if (!out_shape.empty()) {
    // ONNX allows the spatial sizes alone or the full N x C x spatial shape.
    if (out_shape.size() == r + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
    if (out_shape.size() != r)
      return node_error(node, "output_shape {} must have {} spatial sizes", dims_str(attr_ints(node, "output_shape")), r);
  }
  g.out.resize(r);
  for (size_t d = 0; d < r; ++d) {
    const int64_t s = g.strides[d], in = g.in[d];
    if (out_pad[d] >= std::max(s, g.dilations[d]))
      return node_error(node, "output_padding {} along axis {} must be smaller than the stride {} or the dilation {}",
                        out_pad[d], d, s, g.dilations[d]);
    const int64_t eff_k = (g.kernel[d] - 1) * g.dilations[d] + 1;
    const int64_t full = s * (in - 1) + out_pad[d] + eff_k;  // output size with no padding
    if (!out_shape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      // ONNX ConvTranspose-11: total = full - output; SAME_UPPER puts the odd element at the
      // end, NOTSET and SAME_LOWER at the beginning. Without output_shape SAME gives
      // output = input * stride. An output larger than `full` (negative total, as in ONNX's
      // test_convtranspose_output_shape) gets no padding: the positions past the last tap
      // hold only the bias, as in ONNX Runtime.
      g.out[d] = !out_shape.empty() ? out_shape[d] : in * s;
      if (g.out[d] < 1)
        return node_error(node, "output_shape {} along axis {} must be >= 1", g.out[d], d);
      const int64_t total = std::max<int64_t>(0, full - g.out[d]);
      g.pads[d] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      g.pads[r + d] = total - g.pads[d];
      continue;
    }
    if (auto_pad == "VALID") g.pads[d] = g.pads[r + d] = 0;
    g.out[d] = full - g.pads[d] - g.pads[r + d];
    if (g.out[d] < 1)
      return node_error(node, "output size {} along spatial axis {} is not positive: pads {}+{} exceed the unpadded size {}",
                        g.out[d], d, g.pads[d], g.pads[r + d], full);
  }
  return g;
}

Status infer_global_pool(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32}));
  if (!ctx.dims_known(0)) {
    ctx.set_output(0, DType::kFloat32, std::nullopt);
    return ok_status();
  }
  if (ctx.rank(0) < 2)
    return ctx.error("input has shape {}: must be N x C x D1 x ... (rank >= 2)", dims_str(ctx.dims(0)));
  Dims y = ctx.dims(0);
  std::fill(y.begin() + 2, y.end(), 1);
  ctx.set_output(0, DType::kFloat32, y);
  return ok_status();
}

void global_pool_npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>>,
                            OpParams& params) {
  if (!ctx.dims_known(0) || ctx.rank(0) < 2) return;
  const Dims& x = ctx.dims(0);
  params.push_back({"kernel", Dims(x.begin() + 2, x.end()), ""});
  params.push_back({"in_channels", {x[1]}, ""});
  params.push_back({"out_channels", {x[1]}, ""});
}

Status infer_conv_family(InferCtx& ctx, ConvGeometryFn geometry) {
  for (int i = 0; i < 3; ++i)
    if (ctx.has_input(i)) QMAP_RETURN_IF_ERROR(expect_dtype(ctx, i, {DType::kFloat32}));
  if (!ctx.dims_known(0) || !ctx.dims_known(1)) {
    ctx.set_output(0, DType::kFloat32, std::nullopt);
    return ok_status();
  }
  QMAP_ASSIGN_OR_RETURN(WindowGeometry g, geometry(ctx.node(), ctx.dims(0), ctx.dims(1)));
  if (ctx.dims_known(2) && ctx.dims(2) != Dims{g.out_channels})
    return ctx.error("bias B has shape {}: must be [{}] (one value per output channel)",
                     dims_str(ctx.dims(2)), g.out_channels);
  ctx.set_output(0, DType::kFloat32, window_output_dims(g));
  return ok_status();
}

Status eval_conv_family(EvalCtx& ctx, ConvGeometryFn geometry, ConvFast2dFn fast_2d,
                        ConvKernelFn reference) {
  QMAP_ASSIGN_OR_RETURN(WindowGeometry g, geometry(ctx.node, ctx.in(0).dims(), ctx.in(1).dims()));
  if (ctx.out(0).numel() == 0) return ok_status();
  const float* x = ctx.in(0).data<float>().data();
  const float* w = ctx.in(1).data<float>().data();
  const float* b = ctx.has(2) ? ctx.in(2).data<float>().data() : nullptr;
  float* y = ctx.out(0).data<float>().data();
  if (g.spatial_rank() <= 2) fast_2d(kernels::f32::as_2d(g), x, w, b, y, ctx.sgemm);
  else reference(g, x, w, b, y);
  return ok_status();
}

void conv_family_npu_params(const InferCtx& ctx, ConvGeometryFn geometry, OpParams& params) {
  if (!ctx.dims_known(0) || !ctx.dims_known(1)) return;
  auto g = geometry(ctx.node(), ctx.dims(0), ctx.dims(1));
  if (g.ok()) window_npu_params(*g, true, params);
}

void pool_npu_params(const InferCtx& ctx, bool has_dilations, OpParams& params) {
  if (!ctx.dims_known(0)) return;
  auto g = pool_geometry(ctx.node(), ctx.dims(0), has_dilations);
  if (!g.ok()) return;
  window_npu_params(*g, false, params);
  params.push_back({"ceil_mode", {attr_int(ctx.node(), "ceil_mode", 0)}, ""});
}

void window_npu_params(const WindowGeometry& g, bool with_group, OpParams& params) {
  params.push_back({"kernel", g.kernel, ""});
  params.push_back({"stride", g.strides, ""});
  params.push_back({"dilation", g.dilations, ""});
  params.push_back({"pad", g.pads, ""});
  if (with_group) params.push_back({"group", {g.group}, ""});
  params.push_back({"in_channels", {g.in_channels}, ""});
  params.push_back({"out_channels", {g.out_channels}, ""});
}

}  // namespace qmap::ops
