// Pow (ONNX Pow-15): z = x ^ y with multidirectional broadcasting. The output has the
// base's type; integer bases with a float exponent are computed in double and truncated
// toward zero, as ONNX Runtime does. Caffe's Power layer maps here with a scalar exponent.
#include <cmath>

#include "ops/common/helpers.h"

namespace qmap::ops::pow {

static Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64}));
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 1, {DType::kFloat32, DType::kFloat64, DType::kInt32, DType::kInt64}));
  if (!ctx.dims_known(0) || !ctx.dims_known(1)) {
    ctx.set_output(0, ctx.dtype(0), std::nullopt);
    return ok_status();
  }
  auto out = broadcast_dims(ctx.dims(0), ctx.dims(1));
  if (!out)
    return ctx.error("input shapes {} and {} do not broadcast: each dimension must match or be 1",
                     dims_str(ctx.dims(0)), dims_str(ctx.dims(1)));
  ctx.set_output(0, ctx.dtype(0), *out);
  return ok_status();
}

template <typename T>
static void run(const Tensor& x, const Tensor& y, Tensor& z) {
  const std::vector<double> e = y.to_double();
  auto base = x.data<T>();
  auto dst = z.data<T>();
  const BroadcastIndexer bx(x.dims(), z.dims());
  const BroadcastIndexer by(y.dims(), z.dims());
  std::vector<int64_t> yi(static_cast<size_t>(z.numel()));
  by.for_each([&](int64_t o, int64_t i) { yi[static_cast<size_t>(o)] = i; });
  bx.for_each([&](int64_t o, int64_t i) {
    const double ex = e[static_cast<size_t>(yi[static_cast<size_t>(o)])];
    if constexpr (std::is_same_v<T, float>) {
      // Single precision, as Caffe (powx) and ONNX Runtime compute float Pow.
      dst[static_cast<size_t>(o)] = std::pow(base[static_cast<size_t>(i)], static_cast<float>(ex));
    } else {
      dst[static_cast<size_t>(o)] = static_cast<T>(std::pow(static_cast<double>(base[static_cast<size_t>(i)]), ex));
    }
  });
}

static Status eval(EvalCtx& ctx) {
  switch (ctx.in(0).dtype()) {
    case DType::kFloat32: run<float>(ctx.in(0), ctx.in(1), ctx.out(0)); break;
    case DType::kFloat64: run<double>(ctx.in(0), ctx.in(1), ctx.out(0)); break;
    case DType::kInt32: run<int32_t>(ctx.in(0), ctx.in(1), ctx.out(0)); break;
    case DType::kInt64: run<int64_t>(ctx.in(0), ctx.in(1), ctx.out(0)); break;
    default: return ctx.error("input type {} is not supported", dtype_name(ctx.in(0).dtype()));
  }
  return ok_status();
}

extern const OpDef kDef = {
    .name = "Pow",
    .summary = "Power with broadcasting, z = x ^ y (Caffe Power).",
    .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer,
    .eval = eval,
};

}  // namespace qmap::ops::pow
