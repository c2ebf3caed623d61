// Conv (ONNX Conv-11): y = conv(x, W) + B over 1..N spatial axes, grouped and depthwise,
// with strides, dilations, explicit or automatic padding. Float32, NCHW.
// Fast paths (kernels/f32/conv.h) serve 1-D and 2-D; other ranks use the reference loop.
#include "kernels/f32/conv.h"
#include "ops/common/conv_pool_window.h"
#include "ops/common/helpers.h"

namespace qmap::ops::conv {

namespace {

constexpr AttrSpec kAttrs[] = {kAutoPadAttr, kDilationsAttr, kGroupAttr, kKernelShapeAttr,
                               kPadsAttr, kStridesAttr};

Status infer(InferCtx& ctx) {
  for (int i = 0; i < 3; ++i)
    if (ctx.has_input(i)) QMAP_RETURN_IF_ERROR(expect_dtype(ctx, i, {DType::kFloat32}));
  if (!ctx.dims_known(0) || !ctx.dims_known(1)) {
    ctx.set_output(0, DType::kFloat32, std::nullopt);
    return ok_status();
  }
  QMAP_ASSIGN_OR_RETURN(WindowGeometry g, conv_geometry(ctx.node(), ctx.dims(0), ctx.dims(1)));
  if (ctx.dims_known(2) && ctx.dims(2) != Dims{g.out_channels})
    return ctx.error("bias B has shape {}: must be [{}] (one value per output channel)",
                     dims_str(ctx.dims(2)), g.out_channels);
  ctx.set_output(0, DType::kFloat32, window_output_dims(g));
  return ok_status();
}

Status eval(EvalCtx& ctx) {
  QMAP_ASSIGN_OR_RETURN(WindowGeometry g, conv_geometry(ctx.node, ctx.in(0).dims(), ctx.in(1).dims()));
  const float* x = ctx.in(0).data<float>().data();
  const float* w = ctx.in(1).data<float>().data();
  const float* b = ctx.has(2) ? ctx.in(2).data<float>().data() : nullptr;
  float* y = ctx.out(0).data<float>().data();
  if (ctx.out(0).numel() == 0) return ok_status();
  if (g.spatial_rank() <= 2) kernels::f32::conv_2d(kernels::f32::as_2d(g), x, w, b, y);
  else kernels::f32::conv_ref(g, x, w, b, y);
  return ok_status();
}

void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>>, OpParams& params) {
  if (!ctx.dims_known(0) || !ctx.dims_known(1)) return;
  auto g = conv_geometry(ctx.node(), ctx.dims(0), ctx.dims(1));
  if (g.ok()) window_npu_params(*g, true, params);
}

}  // namespace

extern const OpDef kDef = {
    .name = "Conv",
    .summary = "N-D convolution with groups, strides, dilations and padding, plus optional bias.",
    .min_inputs = 2, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = npu_params,
};

}  // namespace qmap::ops::conv
