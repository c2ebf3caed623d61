// Unsqueeze (ONNX Unsqueeze-13): inserts size-1 axes at the positions listed in the `axes`
// input, which index the OUTPUT (rank = input rank + len(axes)), in any order. Unsqueeze-1/11
// carried axes as an attribute; the upgrade hook makes it an input. Every IR dtype.
#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"
#include "ops/common/tensor_copy.h"

namespace qmap::ops::unsqueeze {

static Status infer(InferCtx& ctx) {
  const DType dt = ctx.dtype(0);
  QMAP_RETURN_IF_ERROR(expect_int_list(ctx, 1, "axes"));
  if (!ctx.has_input(1)) return ctx.error("axes input is required");
  auto axes = known_ints(ctx, 1);
  if (!ctx.dims_known(0) || !axes) return set_unknown_output(ctx, dt);
  const Dims& in = ctx.dims(0);
  const int out_rank = static_cast<int>(in.size() + axes->size());
  QMAP_ASSIGN_OR_RETURN(auto norm, normalize_axes(ctx, "axes", *axes, out_rank));
  std::vector<bool> is_new(static_cast<size_t>(out_rank), false);
  for (int a : norm) is_new[static_cast<size_t>(a)] = true;
  Dims out;
  size_t k = 0;
  for (int d = 0; d < out_rank; ++d) out.push_back(is_new[static_cast<size_t>(d)] ? 1 : in[k++]);
  ctx.set_output(0, dt, out);
  return ok_status();
}

static Status eval(EvalCtx& ctx) { return copy_reshaped(ctx.in(0), ctx.out(0)); }

extern const OpDef kDef = {
    .name = "Unsqueeze",
    .summary = "Inserts size-1 axes.",
    // min 1: Unsqueeze-11 before its upgrade; infer requires axes.
    .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer,
    .eval = eval,
    .upgrade_onnx = upgrade_axes_attr_to_input,
    .quant_rule = quant_always<QuantKind::kPassThrough>,
    .lowering = Int8Lowering::kMove,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::unsqueeze
