// Identity (ONNX Identity-16): y = x, for every IR dtype. Optional and sequence inputs
// (Identity-14/16 extensions) are not IR types, so the importer never hands them here.
#include "ops/common/elementwise_copy.h"
#include "ops/common/helpers.h"

namespace qmap::ops::identity {

static Status infer(InferCtx& ctx) {
  ctx.set_output(0, ctx.dtype(0), ctx.input(0).dims);
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  copy_tensor_bytes(ctx.in(0), ctx.out(0));
  return ok_status();
}

extern const OpDef kDef = {
    .name = "Identity",
    .summary = "Copies its input, y = x (any dtype).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer,
    .eval = eval,
    .quant_rule = quant_always<QuantKind::kPassThrough>,
    .lowering = Int8Lowering::kMove,
};

}  // namespace qmap::ops::identity
