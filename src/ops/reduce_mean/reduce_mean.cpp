// ReduceMean (ONNX ReduceMean-13, opset 13-17 form): mean over `axes`. float32 only; sums are
// accumulated in double so the result does not depend on the reduction order.
#include "ops/common/tensor_reduce.h"

namespace qmap::ops::reduce_mean {

static Status infer(InferCtx& ctx) { return infer_reduce(ctx, {DType::kFloat32}); }

static Status eval(EvalCtx& ctx) {
  reduce_eval<float>(
      ctx, 0.0, [](double& acc, float x) { acc += x; },
      [](double acc, int64_t n) { return static_cast<float>(acc / static_cast<double>(n)); });
  return ok_status();
}

extern const OpDef kDef = {
    .name = "ReduceMean",
    .summary = "Mean of the elements over some axes.",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kReduceAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = reduce_npu_params,
};

}  // namespace qmap::ops::reduce_mean
