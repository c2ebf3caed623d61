// GlobalAveragePool (ONNX GlobalAveragePool-1): the average over all spatial positions of each
// channel, x [N, C, spatial...] -> [N, C, 1, ...]. Float32.
#include "kernels/f32/pool.h"
#include "ops/common/conv_pool_window.h"

namespace qmap::ops::global_average_pool {

namespace {

Status eval(EvalCtx& ctx) {
  const Dims& x = ctx.in(0).dims();
  const int64_t planes = x[0] * x[1];
  const int64_t plane_size = planes == 0 ? 0 : ctx.in(0).numel() / planes;
  kernels::f32::global_avg_pool(ctx.in(0).data<float>().data(), ctx.out(0).data<float>().data(),
                                   planes, plane_size);
  return ok_status();
}

}  // namespace

extern const OpDef kDef = {
    .name = "GlobalAveragePool",
    .summary = "Average over all spatial positions of each channel (output N x C x 1 x ...).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer_global_pool,
    .eval = eval,
    .npu_params = global_pool_npu_params,
    .quant_rule = quant_always<QuantKind::kOwnScale>,
    .lowering = Int8Lowering::kPool,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::global_average_pool
