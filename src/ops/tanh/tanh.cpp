// Tanh (ONNX Tanh-13): y = tanh(x).
#include "ops/common/helpers.h"

namespace qmap::ops::tanh {

static Status eval(EvalCtx& ctx) {
  return eval_unary_float(ctx, [](float x) { return std::tanh(x); });
}

extern const OpDef kDef = {
    .name = "Tanh",
    .summary = "Hyperbolic tangent, y = tanh(x).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer_unary_float,
    .eval = eval,
    .in_place = true,
    .quant_rule = quant_always<QuantKind::kTable>,
    .lowering = Int8Lowering::kTable,
};

}  // namespace qmap::ops::tanh
