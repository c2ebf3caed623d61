// PRelu (ONNX PRelu-16): y = x for x >= 0, slope * x otherwise. `slope` broadcasts
// unidirectionally to X (typically C x 1 x 1 per channel, or one value).
#include "ops/common/elementwise_binary.h"
#include "ops/common/int8_rules.h"

namespace qmap::ops::prelu {

static Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32}));
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 1, {DType::kFloat32}));
  if (!ctx.dims_known(0) || !ctx.dims_known(1)) {
    ctx.set_output(0, DType::kFloat32, ctx.input(0).dims);
    return ok_status();
  }
  auto out = broadcast_dims(ctx.dims(0), ctx.dims(1));
  if (!out || *out != ctx.dims(0))
    return ctx.error("slope shape {} does not broadcast to X shape {}: slope's right-aligned "
                     "dimensions must equal X's or be 1 (ONNX unidirectional broadcasting)",
                     dims_str(ctx.dims(1)), dims_str(ctx.dims(0)));
  ctx.set_output(0, DType::kFloat32, ctx.dims(0));
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  const Tensor& x = ctx.in(0);
  const Tensor& slope = ctx.in(1);
  broadcast_apply(x.data<float>().data(), x.dims(), slope.data<float>().data(), slope.dims(),
                  ctx.out(0).data<float>().data(), x.dims(),
                  [](float v, float s) { return v < 0.f ? s * v : v; });
  return ok_status();
}

// A table of the input: one when every slope is the same (LeakyRelu in disguise), one per
// channel when the slopes vary along one axis of X (src/steps/channel_lut/).
static QuantKind quant_rule(const Graph& g, const Node& n, std::string* why) {
  const Tensor* slope = constant_input(g, n, 1);
  if (slope && channel_layout(g, n)) return QuantKind::kTable;
  *why = slope ? "PRelu whose slopes vary along more than one axis of X (a table per channel holds one function "
                 "of the input per channel)"
               : "PRelu with a slope computed at run time (a table needs constant slopes)";
  return QuantKind::kFloat;
}

extern const OpDef kDef = {
    .name = "PRelu",
    .summary = "Parametric ReLU, y = x >= 0 ? x : slope * x (slope broadcast to X).",
    .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer,
    .eval = eval,
    // `broadcast` of slope against X: an NPU usually supports scalar or per-channel slopes.
    .npu_params = npu_params_broadcast,
    .quant_rule = quant_rule,
    .lowering = Int8Lowering::kChannelTable,
};

}  // namespace qmap::ops::prelu
