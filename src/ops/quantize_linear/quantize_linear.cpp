// QuantizeLinear (ONNX QuantizeLinear-13): y = saturate(round_half_even(x / y_scale) + y_zero_point).
// x is float32 (or int32); y has the zero point's type, uint8 (default, also when the zero
// point is absent), int8 or int16 (ONNX QuantizeLinear-21's int16, or com.microsoft's
// QuantizeLinear at older opsets: qmap's higher-precision activations). The division is a float32 division, as ONNX Runtime computes it
// (not a multiply by 1/scale), so results match it bit for bit. NaN quantizes to the zero
// point. Per-axis scale/zero point along `axis` (QuantizeLinear-10 was per-tensor only and
// is a subset, so no upgrade is needed).
#include <algorithm>

#include "ops/common/elementwise_quant.h"

namespace qmap::ops::quantize_linear {

static constexpr AttrSpec kAttrs[] = {kQuantAxisAttr};

static Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32, DType::kInt32}));
  QMAP_RETURN_IF_ERROR(check_quant_params(ctx, "y_scale", "y_zero_point", {DType::kUInt8, DType::kInt8, DType::kInt16}));
  ctx.set_output(0, ctx.has_input(2) ? ctx.dtype(2) : DType::kUInt8, ctx.input(0).dims);
  return ok_status();
}

template <typename Q, typename X>
static void quantize(const Tensor& x, const Tensor& scale, const Tensor* zp, int64_t axis, Tensor& y) {
  const QuantLayout l = quant_layout(x.dims(), scale.dims(), axis);
  auto xs = x.data<X>();
  auto s = scale.data<float>();
  auto q = y.data<Q>();
  constexpr float kMin = std::numeric_limits<Q>::lowest(), kMax = std::numeric_limits<Q>::max();
  for_each_quant(l, [&](int64_t i, int64_t c) {
    const int32_t z = zp ? zp->data<Q>()[static_cast<size_t>(c)] : 0;
    // Clamp before converting: the bounds are small integers, exact in float.
    const float r = std::clamp(round_half_even(static_cast<float>(xs[static_cast<size_t>(i)]) /
                                               s[static_cast<size_t>(c)]),
                               kMin - static_cast<float>(z), kMax - static_cast<float>(z));
    q[static_cast<size_t>(i)] = static_cast<Q>(static_cast<int32_t>(r) + z);
  });
}

static Status eval(EvalCtx& ctx) {
  const Tensor* zp = ctx.has(2) ? &ctx.in(2) : nullptr;
  const int64_t axis = attr_int(ctx.node, "axis", 1);
  const bool int_in = ctx.in(0).dtype() == DType::kInt32;
  if (ctx.out(0).dtype() == DType::kInt8) {
    if (int_in) quantize<int8_t, int32_t>(ctx.in(0), ctx.in(1), zp, axis, ctx.out(0));
    else quantize<int8_t, float>(ctx.in(0), ctx.in(1), zp, axis, ctx.out(0));
  } else if (ctx.out(0).dtype() == DType::kInt16) {
    if (int_in) quantize<int16_t, int32_t>(ctx.in(0), ctx.in(1), zp, axis, ctx.out(0));
    else quantize<int16_t, float>(ctx.in(0), ctx.in(1), zp, axis, ctx.out(0));
  } else {
    if (int_in) quantize<uint8_t, int32_t>(ctx.in(0), ctx.in(1), zp, axis, ctx.out(0));
    else quantize<uint8_t, float>(ctx.in(0), ctx.in(1), zp, axis, ctx.out(0));
  }
  return ok_status();
}

extern const OpDef kDef = {
    .name = "QuantizeLinear",
    .summary = "Float to uint8/int8/int16: saturate(round_half_even(x / scale) + zero_point), per tensor or per axis.",
    .min_inputs = 2, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = npu_params_quant,
    .lowering = Int8Lowering::kQuantize,
};

}  // namespace qmap::ops::quantize_linear
