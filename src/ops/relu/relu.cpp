// Relu (ONNX Relu-14): y = max(x, 0).
#include "ops/common/helpers.h"

namespace qmap::ops::relu {

static Status eval(EvalCtx& ctx) {
  return eval_unary_float(ctx, [](float x) { return x > 0.f ? x : 0.f; });
}

extern const OpDef kDef = {
    .name = "Relu",
    .summary = "Rectified linear unit, y = max(x, 0).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer_unary_float,
    .eval = eval,
    .in_place = true,
    .quant_rule = quant_always<QuantKind::kTable>,
    .lowering = Int8Lowering::kTable,
    .output_non_negative = non_negative_always,
};

}  // namespace qmap::ops::relu
