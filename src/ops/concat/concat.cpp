// Concat (ONNX Concat-13): joins the inputs along `axis`; every other dimension must match.
// Data movement only, so every IR dtype is accepted (all inputs share one dtype).
#include <cstring>

#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"

namespace qmap::ops::concat {

static const AttrSpec kAttrs[] = {
    {"axis", AttrType::kInt, nullptr, "axis to concatenate on; negative counts from the back"},
};

static Status infer(InferCtx& ctx) {
  const DType dt = ctx.dtype(0);
  for (int i = 1; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i) && ctx.dtype(i) != dt)
      return ctx.error("input {} has type {} but input 0 has type {}: all inputs must share one type",
                       i, dtype_name(ctx.dtype(i)), dtype_name(dt));
  if (!ctx.node().has_attr("axis")) return ctx.error("attribute axis is required");
  int rank = -1;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return ctx.error("input {} is empty: Concat inputs cannot be omitted", i);
    if (!ctx.dims_known(i)) continue;
    if (rank < 0) rank = ctx.rank(i);
    else if (ctx.rank(i) != rank)
      return ctx.error("input {} has rank {} but other inputs have rank {}: ranks must match", i,
                       ctx.rank(i), rank);
  }
  if (rank == 0) return ctx.error("inputs are scalars: Concat needs inputs of rank >= 1");
  bool all_known = true;
  for (int i = 0; i < ctx.num_inputs(); ++i) all_known = all_known && ctx.dims_known(i);
  if (rank < 0) return set_unknown_output(ctx, dt);
  QMAP_ASSIGN_OR_RETURN(const int axis,
                        normalize_axis(ctx, "axis", attr_int(ctx.node(), "axis", 0), rank));
  Dims out;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.dims_known(i)) continue;
    const Dims& d = ctx.dims(i);
    if (out.empty()) {
      out = d;
      continue;
    }
    for (int k = 0; k < rank; ++k) {
      if (k == axis) continue;
      if (d[static_cast<size_t>(k)] != out[static_cast<size_t>(k)])
        return ctx.error("input {} has shape {} but input 0 has {}: dimensions other than axis {} must match",
                         i, dims_str(d), dims_str(out), axis);
    }
    out[static_cast<size_t>(axis)] += d[static_cast<size_t>(axis)];
  }
  ctx.set_output(0, dt, all_known ? std::optional<Dims>(out) : std::nullopt);
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  Tensor& y = ctx.out(0);
  const int rank = y.rank();
  int64_t axis = attr_int(ctx.node, "axis", 0);
  if (axis < 0) axis += rank;
  int64_t outer = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= y.dims()[static_cast<size_t>(k)];
  // Each input contributes one contiguous chunk of dims[axis] * inner elements per outer row.
  std::vector<size_t> chunk;
  for (size_t i = 0; i < ctx.inputs.size(); ++i)
    chunk.push_back(outer == 0 ? 0 : ctx.in(static_cast<int>(i)).nbytes() / static_cast<size_t>(outer));
  std::byte* d = y.raw();
  for (int64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < ctx.inputs.size(); ++i) {
      if (chunk[i] == 0) continue;
      std::memcpy(d, ctx.in(static_cast<int>(i)).raw() + static_cast<size_t>(o) * chunk[i], chunk[i]);
      d += chunk[i];
    }
  return ok_status();
}


extern const OpDef kDef = {
    .name = "Concat",
    .summary = "Concatenates tensors along one axis.",
    .min_inputs = 1, .max_inputs = -1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = axis_npu_params,
    .quant_rule = quant_always<QuantKind::kConcat>,
    .lowering = Int8Lowering::kConcat,
    .output_non_negative = non_negative_as_all_inputs,
};

}  // namespace qmap::ops::concat
