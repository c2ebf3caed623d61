// MaxPool (ONNX MaxPool-12): maximum over sliding windows on 1..N spatial axes with strides,
// dilations, pads / auto_pad and ceil_mode; the optional Indices output (flat int64 index of
// each maximum, row-major or with storage_order = 1 column-major spatial part).
// Types: float32, float64, int8, uint8 (MaxPool-12 allows the 8-bit types, which the
// quantized graph uses). NCHW.
#include "kernels/f32/pool.h"
#include "ops/common/conv_pool_window.h"
#include "ops/common/helpers.h"

namespace qmap::ops::max_pool {

namespace {

constexpr AttrSpec kAttrs[] = {
    kAutoPadAttr, kCeilModeAttr, kDilationsAttr, kPoolKernelShapeAttr, kPadsAttr,
    {"storage_order", AttrType::kInt, "0",
     "layout of the Indices output: 0 row-major, 1 column-major"},
    kStridesAttr};

Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(
      expect_dtype(ctx, 0, {DType::kFloat32, DType::kFloat64, DType::kInt8, DType::kUInt8}));
  const int64_t order = attr_int(ctx.node(), "storage_order", 0);
  if (order != 0 && order != 1)
    return ctx.error("storage_order {} must be 0 (row-major) or 1 (column-major)", order);
  std::optional<Dims> y;
  if (ctx.dims_known(0)) {
    QMAP_ASSIGN_OR_RETURN(WindowGeometry g, pool_geometry(ctx.node(), ctx.dims(0), true));
    y = window_output_dims(g);
  }
  ctx.set_output(0, ctx.dtype(0), y);
  ctx.set_output(1, DType::kInt64, y);  // Indices (optional output)
  return ok_status();
}

template <typename T>
void run(const WindowGeometry& g, const Tensor& x, Tensor& y, Tensor* indices, bool column_major) {
  const T* xp = x.data<T>().data();
  T* yp = y.data<T>().data();
  if (indices != nullptr)
    kernels::f32::max_pool_ref<T>(g, xp, yp, indices->data<int64_t>().data(), column_major);
  else if (g.spatial_rank() <= 2)
    kernels::f32::max_pool_2d<T>(kernels::f32::as_2d(g), xp, yp);
  else
    kernels::f32::max_pool_ref<T>(g, xp, yp, nullptr, false);
}

Status eval(EvalCtx& ctx) {
  QMAP_ASSIGN_OR_RETURN(WindowGeometry g, pool_geometry(ctx.node, ctx.in(0).dims(), true));
  // Indices are computed only when the node has that output (the engine allocates an
  // omitted one anyway).
  const auto& outs = ctx.node.outputs;
  const bool want_indices = ctx.outputs.size() > 1 && (outs.size() < 2 || outs[1] != kNoValue);
  Tensor* indices = want_indices ? &ctx.out(1) : nullptr;
  const bool column_major = attr_int(ctx.node, "storage_order", 0) == 1;
  if (ctx.out(0).numel() == 0) return ok_status();
  switch (ctx.in(0).dtype()) {
    case DType::kFloat32: run<float>(g, ctx.in(0), ctx.out(0), indices, column_major); break;
    case DType::kFloat64: run<double>(g, ctx.in(0), ctx.out(0), indices, column_major); break;
    case DType::kInt8: run<int8_t>(g, ctx.in(0), ctx.out(0), indices, column_major); break;
    case DType::kUInt8: run<uint8_t>(g, ctx.in(0), ctx.out(0), indices, column_major); break;
    default: return ctx.error("input type {} is not supported", dtype_name(ctx.in(0).dtype()));
  }
  return ok_status();
}

void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>>, OpParams& params) {
  pool_npu_params(ctx, true, params);
}

}  // namespace

static QuantKind quant_rule(const Graph&, const Node& n, std::string* why) {
  if (n.outputs.size() > 1 && n.outputs[1] != kNoValue) {
    *why = "MaxPool with Indices";
    return QuantKind::kFloat;
  }
  return QuantKind::kPassThrough;
}

extern const OpDef kDef = {
    .name = "MaxPool",
    .summary = "N-D max pooling with strides, dilations, padding and ceil_mode; optional argmax Indices.",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 2,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = npu_params,
    .quant_rule = quant_rule,
    .lowering = Int8Lowering::kPool,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::max_pool
