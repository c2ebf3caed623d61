// AveragePool (ONNX AveragePool-11): mean over sliding windows on 1..N spatial axes with
// strides, pads / auto_pad, ceil_mode and count_include_pad (divisor rule in kernels/f32/pool.h,
// matching ONNX Runtime). Float32, NCHW. AveragePool-11 has no dilations (added in opset 19).
#include "kernels/f32/pool.h"
#include "ops/common/conv_pool_window.h"
#include "ops/common/helpers.h"

namespace qmap::ops::average_pool {

namespace {

constexpr AttrSpec kAttrs[] = {
    kAutoPadAttr, kCeilModeAttr,
    {"count_include_pad", AttrType::kInt, "0",
     "1: padded elements count in the divisor; 0: only input elements do"},
    kPoolKernelShapeAttr, kPadsAttr, kStridesAttr};

Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32}));
  const int64_t cip = attr_int(ctx.node(), "count_include_pad", 0);
  if (cip != 0 && cip != 1) return ctx.error("count_include_pad {} must be 0 or 1", cip);
  std::optional<Dims> y;
  if (ctx.dims_known(0)) {
    QMAP_ASSIGN_OR_RETURN(WindowGeometry g, pool_geometry(ctx.node(), ctx.dims(0), false));
    y = window_output_dims(g);
  }
  ctx.set_output(0, DType::kFloat32, y);
  return ok_status();
}

Status eval(EvalCtx& ctx) {
  QMAP_ASSIGN_OR_RETURN(WindowGeometry g, pool_geometry(ctx.node, ctx.in(0).dims(), false));
  const bool cip = attr_int(ctx.node, "count_include_pad", 0) == 1;
  const float* x = ctx.in(0).data<float>().data();
  float* y = ctx.out(0).data<float>().data();
  if (ctx.out(0).numel() == 0) return ok_status();
  if (g.spatial_rank() <= 2) kernels::f32::avg_pool_2d(kernels::f32::as_2d(g), x, y, cip);
  else kernels::f32::avg_pool_ref(g, x, y, cip);
  return ok_status();
}

void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>>, OpParams& params) {
  pool_npu_params(ctx, false, params);
  // The divisor rule a pooling unit must implement.
  params.push_back({"count_include_pad", {attr_int(ctx.node(), "count_include_pad", 0)}, ""});
}

}  // namespace

extern const OpDef kDef = {
    .name = "AveragePool",
    .summary = "N-D average pooling with strides, padding, ceil_mode and count_include_pad.",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = npu_params,
    .quant_rule = quant_always<QuantKind::kOwnScale>,
    .lowering = Int8Lowering::kPool,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::average_pool
