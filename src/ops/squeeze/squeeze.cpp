// Squeeze (ONNX Squeeze-13): removes the listed size-1 axes (optional `axes` input), or every
// size-1 axis when axes is absent. Squeeze-1/11 carried axes as an attribute; the upgrade hook
// makes it an input. Every IR dtype.
#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"
#include "ops/common/tensor_copy.h"

namespace qmap::ops::squeeze {

static Status infer(InferCtx& ctx) {
  const DType dt = ctx.dtype(0);
  QMAP_RETURN_IF_ERROR(expect_int_list(ctx, 1, "axes"));
  auto axes = known_ints(ctx, 1);
  if (!ctx.dims_known(0) || (ctx.has_input(1) && !axes)) return set_unknown_output(ctx, dt);
  const Dims& in = ctx.dims(0);
  std::vector<bool> drop(in.size(), false);
  if (axes) {
    QMAP_ASSIGN_OR_RETURN(auto norm, normalize_axes(ctx, "axes", *axes, static_cast<int>(in.size())));
    for (int a : norm) {
      if (in[static_cast<size_t>(a)] != 1)
        return ctx.error("axis {} has size {} in input {}: only size-1 axes can be squeezed", a,
                         in[static_cast<size_t>(a)], dims_str(in));
      drop[static_cast<size_t>(a)] = true;
    }
  } else {
    for (size_t d = 0; d < in.size(); ++d) drop[d] = in[d] == 1;
  }
  Dims out;
  for (size_t d = 0; d < in.size(); ++d)
    if (!drop[d]) out.push_back(in[d]);
  ctx.set_output(0, dt, out);
  return ok_status();
}

static Status eval(EvalCtx& ctx) { return copy_reshaped(ctx.in(0), ctx.out(0)); }

extern const OpDef kDef = {
    .name = "Squeeze",
    .summary = "Removes size-1 axes.",
    .min_inputs = 1, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer,
    .eval = eval,
    .upgrade_onnx = upgrade_axes_attr_to_input,
    .quant_rule = quant_always<QuantKind::kPassThrough>,
    .lowering = Int8Lowering::kMove,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::squeeze
