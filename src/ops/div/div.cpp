// Div (ONNX Div-14): C = A / B, with multidirectional broadcasting.
// float32 follows IEEE (x/0 = ±inf, 0/0 = NaN). Integer division truncates toward zero like
// ONNX Runtime; an integer zero divisor is reported as an error instead of trapping.
#include "ops/common/elementwise_binary.h"

namespace qmap::ops::div {

struct DivFn {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return trunc_div(a, b);
    else return a / b;
  }
};

static Status eval(EvalCtx& ctx) {
  if (ctx.in(1).dtype() != DType::kFloat32) {
    for (int64_t v : ctx.in(1).to_int64())
      if (v == 0) return ctx.error("integer division by zero: divisor B contains 0");
  }
  return eval_arith<DivFn>(ctx);
}

extern const OpDef kDef = {
    .name = "Div",
    .summary = "Elementwise division with numpy-style broadcasting, C = A / B (integers truncate).",
    .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer_arith_binary,
    .eval = eval,
    .npu_params = npu_params_broadcast,
    .in_place = true,
};

}  // namespace qmap::ops::div
