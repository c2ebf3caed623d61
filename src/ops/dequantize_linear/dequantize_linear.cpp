// DequantizeLinear (ONNX DequantizeLinear-13): y = (x - x_zero_point) * x_scale, float32.
// x is uint8, int8, int16 (qmap's higher-precision activations) or int32 (biases); the zero point, optional (0), has x's type. The
// difference is exact in integers and converted once, then one float32 multiply: the same
// rounding as ONNX Runtime. Per-axis scale/zero point along `axis`.
#include "ops/common/elementwise_quant.h"

namespace qmap::ops::dequantize_linear {

static constexpr AttrSpec kAttrs[] = {kQuantAxisAttr};

static Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kUInt8, DType::kInt8, DType::kInt16, DType::kInt32}));
  QMAP_RETURN_IF_ERROR(check_quant_params(ctx, "x_scale", "x_zero_point", {ctx.dtype(0)}));
  ctx.set_output(0, DType::kFloat32, ctx.input(0).dims);
  return ok_status();
}

template <typename X>
static void dequantize(const Tensor& x, const Tensor& scale, const Tensor* zp, int64_t axis, Tensor& y) {
  const QuantLayout l = quant_layout(x.dims(), scale.dims(), axis);
  auto xs = x.data<X>();
  auto s = scale.data<float>();
  auto out = y.data<float>();
  for_each_quant(l, [&](int64_t i, int64_t c) {
    const int64_t z = zp ? zp->data<X>()[static_cast<size_t>(c)] : 0;
    out[static_cast<size_t>(i)] =
        static_cast<float>(static_cast<int64_t>(xs[static_cast<size_t>(i)]) - z) * s[static_cast<size_t>(c)];
  });
}

static Status eval(EvalCtx& ctx) {
  const Tensor* zp = ctx.has(2) ? &ctx.in(2) : nullptr;
  const int64_t axis = attr_int(ctx.node, "axis", 1);
  switch (ctx.in(0).dtype()) {
    case DType::kUInt8: dequantize<uint8_t>(ctx.in(0), ctx.in(1), zp, axis, ctx.out(0)); break;
    case DType::kInt8: dequantize<int8_t>(ctx.in(0), ctx.in(1), zp, axis, ctx.out(0)); break;
    case DType::kInt16: dequantize<int16_t>(ctx.in(0), ctx.in(1), zp, axis, ctx.out(0)); break;
    default: dequantize<int32_t>(ctx.in(0), ctx.in(1), zp, axis, ctx.out(0)); break;
  }
  return ok_status();
}

extern const OpDef kDef = {
    .name = "DequantizeLinear",
    .summary = "uint8/int8/int16/int32 to float: (x - zero_point) * scale, per tensor or per axis.",
    .min_inputs = 2, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = npu_params_quant,
    .lowering = Int8Lowering::kDequantize,
};

}  // namespace qmap::ops::dequantize_linear
