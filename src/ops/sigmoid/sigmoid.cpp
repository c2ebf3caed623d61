// Sigmoid (ONNX Sigmoid-13): y = 1 / (1 + exp(-x)).
#include "ops/common/helpers.h"

namespace qmap::ops::sigmoid {

static Status eval(EvalCtx& ctx) {
  // Both branches evaluate exp of a non-positive argument, so nothing overflows and the
  // result keeps float32 relative accuracy at both tails (std::exp is within ~1 ulp).
  return eval_unary_float(ctx, [](float x) {
    if (x >= 0.f) return 1.f / (1.f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.f + e);
  });
}

extern const OpDef kDef = {
    .name = "Sigmoid",
    .summary = "Logistic sigmoid, y = 1 / (1 + exp(-x)).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer_unary_float,
    .eval = eval,
    .in_place = true,
    .quant_rule = quant_always<QuantKind::kTable>,
    .lowering = Int8Lowering::kTable,
    .output_non_negative = non_negative_always,
};

}  // namespace qmap::ops::sigmoid
