// Elu (ONNX Elu-6): y = x for x > 0, alpha * (exp(x) - 1) otherwise.
#include "ops/common/helpers.h"

namespace qmap::ops::elu {

static constexpr AttrSpec kAttrs[] = {
    {"alpha", AttrType::kFloat, "1.0", "scale of the negative part"},
};

static Status eval(EvalCtx& ctx) {
  const float alpha = attr_float(ctx.node, "alpha", 1.f);
  // expm1 keeps relative accuracy for x near 0, where exp(x) - 1 in float32 cancels.
  return eval_unary_float(ctx, [alpha](float x) { return x > 0.f ? x : alpha * std::expm1(x); });
}

extern const OpDef kDef = {
    .name = "Elu",
    .summary = "Exponential linear unit, y = x > 0 ? x : alpha * (exp(x) - 1).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer_unary_float,
    .eval = eval,
    .in_place = true,
    .quant_rule = quant_always<QuantKind::kTable>,
    .lowering = Int8Lowering::kTable,
};

}  // namespace qmap::ops::elu
