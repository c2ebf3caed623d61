// LeakyRelu (ONNX LeakyRelu-16): y = x for x >= 0, alpha * x otherwise.
#include "ops/common/helpers.h"

namespace qmap::ops::leaky_relu {

static constexpr AttrSpec kAttrs[] = {
    {"alpha", AttrType::kFloat, "0.01", "slope for negative inputs"},
};

static Status eval(EvalCtx& ctx) {
  const float alpha = attr_float(ctx.node, "alpha", 0.01f);
  return eval_unary_float(ctx, [alpha](float x) { return x < 0.f ? alpha * x : x; });
}

extern const OpDef kDef = {
    .name = "LeakyRelu",
    .summary = "Leaky rectified linear unit, y = x >= 0 ? x : alpha * x.",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer_unary_float,
    .eval = eval,
    .in_place = true,
    .quant_rule = quant_always<QuantKind::kTable>,
    .lowering = Int8Lowering::kTable,
};

}  // namespace qmap::ops::leaky_relu
