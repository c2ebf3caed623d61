// ReduceMean (ONNX ReduceMean-13, opset 13-17 form): mean over `axes`. float32 only; sums are
// accumulated in double so the result does not depend on the reduction order.
#include "ops/common/tensor_reduce.h"
#include "ops/common/int8_rules.h"

namespace qmap::ops::reduce_mean {

static Status infer(InferCtx& ctx) { return infer_reduce(ctx, {DType::kFloat32}); }

static Status eval(EvalCtx& ctx) {
  reduce_eval<float>(
      ctx, 0.0, [](double& acc, float x) { acc += x; },
      [](double acc, int64_t n) { return static_cast<float>(acc / static_cast<double>(n)); });
  return ok_status();
}

// Over H and W of an NCHW tensor it is global average pooling.
static QuantKind quant_rule(const Graph& g, const Node& n, std::string* why) {
  if (reduces_spatial_axes(g, n)) return QuantKind::kOwnScale;
  *why = "ReduceMean over axes other than H and W of a 4-D tensor";
  return QuantKind::kFloat;
}

extern const OpDef kDef = {
    .name = "ReduceMean",
    .summary = "Mean of the elements over some axes.",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kReduceAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = reduce_npu_params,
    .quant_rule = quant_rule,
    .lowering = Int8Lowering::kPool,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::reduce_mean
