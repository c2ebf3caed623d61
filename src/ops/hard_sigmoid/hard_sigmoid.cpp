// HardSigmoid (ONNX HardSigmoid-6): y = max(0, min(1, alpha * x + beta)).
#include "ops/common/helpers.h"

namespace qmap::ops::hard_sigmoid {

static constexpr AttrSpec kAttrs[] = {
    {"alpha", AttrType::kFloat, "0.2", "slope"},
    {"beta", AttrType::kFloat, "0.5", "offset"},
};

static Status eval(EvalCtx& ctx) {
  const float alpha = attr_float(ctx.node, "alpha", 0.2f);
  const float beta = attr_float(ctx.node, "beta", 0.5f);
  return eval_unary_float(ctx, [=](float x) { return std::max(0.f, std::min(1.f, alpha * x + beta)); });
}

extern const OpDef kDef = {
    .name = "HardSigmoid",
    .summary = "Piecewise-linear sigmoid, y = max(0, min(1, alpha * x + beta)).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer_unary_float,
    .eval = eval,
    .in_place = true,
    .quant_rule = quant_always<QuantKind::kTable>,
    .lowering = Int8Lowering::kTable,
    .output_non_negative = non_negative_always,
};

}  // namespace qmap::ops::hard_sigmoid
