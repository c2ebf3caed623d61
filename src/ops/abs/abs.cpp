// Abs (ONNX Abs-13): y = |x|, for float and signed/unsigned integer tensors.
#include <cstdlib>

#include "ops/common/helpers.h"

namespace qmap::ops::abs {

static Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32, DType::kFloat64, DType::kInt8, DType::kUInt8,
                                             DType::kInt32, DType::kInt64}));
  ctx.set_output(0, ctx.dtype(0), ctx.input(0).dims);
  return ok_status();
}

template <typename T>
static void run(const Tensor& x, Tensor& y) {
  auto src = x.data<T>();
  auto dst = y.data<T>();
  for (size_t i = 0; i < src.size(); ++i) {
    if constexpr (std::is_unsigned_v<T>) dst[i] = src[i];
    else dst[i] = src[i] < T(0) ? static_cast<T>(-src[i]) : src[i];  // INT_MIN wraps, as in ONNX Runtime
  }
}

static Status eval(EvalCtx& ctx) {
  const bool known = visit_arithmetic_dtype(ctx.in(0).dtype(), [&](auto tag) { run<decltype(tag)>(ctx.in(0), ctx.out(0)); });
  if (!known) return ctx.error("input type {} is not supported", dtype_name(ctx.in(0).dtype()));
  return ok_status();
}

extern const OpDef kDef = {
    .name = "Abs",
    .summary = "Absolute value, y = |x| (Caffe AbsVal).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer,
    .eval = eval,
};

}  // namespace qmap::ops::abs
