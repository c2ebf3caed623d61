// Flatten (ONNX Flatten-13): reshapes to 2-D [prod(dims[:axis]), prod(dims[axis:])];
// axis in [-rank, rank], 0 gives [1, numel]. Every IR dtype.
#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"
#include "ops/common/tensor_copy.h"

namespace qmap::ops::flatten {

static const AttrSpec kAttrs[] = {
    {"axis", AttrType::kInt, "1", "dims before axis form the first output dim; negative counts from the back"},
};

static Status infer(InferCtx& ctx) {
  const DType dt = ctx.dtype(0);
  if (!ctx.dims_known(0)) return set_unknown_output(ctx, dt);
  const Dims& in = ctx.dims(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  int64_t axis = attr_int(ctx.node(), "axis", 1);
  // Unlike most axes, Flatten's may equal rank (everything goes to the first dim).
  if (axis < -rank || axis > rank)
    return ctx.error("axis {} is out of range for a rank-{} input: must be in [{}, {}]", axis, rank, -rank, rank);
  if (axis < 0) axis += rank;
  Dims out{1, 1};
  for (int64_t d = 0; d < rank; ++d) out[d < axis ? 0 : 1] *= in[static_cast<size_t>(d)];
  ctx.set_output(0, dt, out);
  return ok_status();
}

static Status eval(EvalCtx& ctx) { return copy_reshaped(ctx.in(0), ctx.out(0)); }

extern const OpDef kDef = {
    .name = "Flatten",
    .summary = "Flattens a tensor into a 2-D matrix at an axis.",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .quant_rule = quant_always<QuantKind::kPassThrough>,
    .lowering = Int8Lowering::kMove,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::flatten
