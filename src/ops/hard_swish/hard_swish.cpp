// HardSwish (ONNX HardSwish-14): y = x * max(0, min(1, x / 6 + 0.5)).
#include "ops/common/helpers.h"

namespace qmap::ops::hard_swish {

static Status eval(EvalCtx& ctx) {
  // The spec writes it as HardSigmoid with alpha = 1/6, beta = 0.5; multiplying by the
  // float32 constant 1/6 (not dividing by 6) reproduces ONNX's reference values bit for bit.
  constexpr float kAlpha = 1.f / 6.f;
  return eval_unary_float(ctx, [](float x) { return x * std::max(0.f, std::min(1.f, kAlpha * x + 0.5f)); });
}

extern const OpDef kDef = {
    .name = "HardSwish",
    .summary = "Hard swish, y = x * max(0, min(1, x / 6 + 0.5)).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer_unary_float,
    .eval = eval,
    .in_place = true,
    .quant_rule = quant_always<QuantKind::kTable>,
    .lowering = Int8Lowering::kTable,
};

}  // namespace qmap::ops::hard_swish
