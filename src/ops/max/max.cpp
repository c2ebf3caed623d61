// Max (ONNX Max-13): elementwise maximum of one or more inputs with multidirectional
// broadcasting (Caffe Eltwise MAX). NaN handling follows std::max (the first operand wins
// when a comparison is false), as ONNX Runtime's Eigen max does for the common case.
#include "ops/common/helpers.h"

namespace qmap::ops::max {

static Status infer(InferCtx& ctx) {
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    QMAP_RETURN_IF_ERROR(expect_dtype(ctx, i, {DType::kFloat32, DType::kFloat64, DType::kInt8, DType::kUInt8,
                                               DType::kInt32, DType::kInt64}));
    if (ctx.dtype(i) != ctx.dtype(0))
      return ctx.error("input {} has type {} but input 0 has type {}: all inputs must have the same type", i,
                       dtype_name(ctx.dtype(i)), dtype_name(ctx.dtype(0)));
  }
  std::optional<Dims> out = ctx.input(0).dims;
  for (int i = 1; i < ctx.num_inputs() && out; ++i) {
    if (!ctx.dims_known(i)) { out.reset(); break; }
    auto b = broadcast_dims(*out, ctx.dims(i));
    if (!b)
      return ctx.error("input {} of shape {} does not broadcast with shape {}: each dimension must match or be 1", i,
                       dims_str(ctx.dims(i)), dims_str(*out));
    out = b;
  }
  ctx.set_output(0, ctx.dtype(0), out);
  return ok_status();
}

template <typename T>
static void run(EvalCtx& ctx) {
  Tensor& z = ctx.out(0);
  auto dst = z.data<T>();
  for (int k = 0; k < static_cast<int>(ctx.inputs.size()); ++k) {
    auto src = ctx.in(k).template data<T>();
    BroadcastIndexer(ctx.in(k).dims(), z.dims()).for_each([&](int64_t o, int64_t i) {
      const T v = src[static_cast<size_t>(i)];
      T& d = dst[static_cast<size_t>(o)];
      d = k == 0 ? v : (v > d ? v : d);
    });
  }
}

static Status eval(EvalCtx& ctx) {
  const bool known = visit_arithmetic_dtype(ctx.in(0).dtype(), [&](auto tag) { run<decltype(tag)>(ctx); });
  if (!known) return ctx.error("input type {} is not supported", dtype_name(ctx.in(0).dtype()));
  return ok_status();
}

extern const OpDef kDef = {
    .name = "Max",
    .summary = "Elementwise maximum of the inputs, with broadcasting (Caffe Eltwise MAX).",
    .min_inputs = 1, .max_inputs = -1, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer,
    .eval = eval,
};

}  // namespace qmap::ops::max
