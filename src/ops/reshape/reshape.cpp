// Reshape (ONNX Reshape-14): output dims from the `shape` input; 0 copies the input dim at
// that position (unless allowzero=1, where 0 is a real zero-length dim), -1 is inferred from
// the element count (at most one). The shape input must be known during inference for the
// output dims to be known. Every IR dtype.
#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"
#include "ops/common/tensor_copy.h"

namespace qmap::ops::reshape {

static const AttrSpec kAttrs[] = {
    {"allowzero", AttrType::kInt, "0", "1: a 0 in shape is a zero dim, not a copy of the input dim"},
};

static Status infer(InferCtx& ctx) {
  const DType dt = ctx.dtype(0);
  QMAP_RETURN_IF_ERROR(expect_int_list(ctx, 1, "shape"));
  const int64_t allowzero = attr_int(ctx.node(), "allowzero", 0);
  if (allowzero != 0 && allowzero != 1) return ctx.error("allowzero {} is not valid: must be 0 or 1", allowzero);
  auto shape = known_ints(ctx, 1);
  if (!shape || !ctx.dims_known(0)) return set_unknown_output(ctx, dt);
  const Dims& in = ctx.dims(0);
  Dims out = *shape;
  int infer_at = -1;
  bool has_zero = false;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer_at >= 0) return ctx.error("shape [{}] has more than one -1: at most one dim can be inferred", fmt::join(*shape, ","));
      infer_at = static_cast<int>(i);
    } else if (out[i] == 0 && allowzero == 0) {
      if (i >= in.size())
        return ctx.error("shape [{}] has 0 at position {} but the input has rank {}: 0 copies an existing input dim",
                         fmt::join(*shape, ","), i, in.size());
      out[i] = in[i];
    } else if (out[i] < 0) {
      return ctx.error("shape [{}] has {}: dims must be >= -1", fmt::join(*shape, ","), out[i]);
    }
    has_zero = has_zero || (out[i] == 0 && allowzero == 1);
  }
  if (infer_at >= 0 && has_zero)
    return ctx.error("shape [{}] has both -1 and 0 with allowzero=1: the -1 dim cannot be inferred", fmt::join(*shape, ","));
  const int64_t n = num_elements(in);  // shape inference bounds input sizes (ops/infer.cpp)
  // The target dims come from the model file: multiply them without signed overflow.
  auto too_large = [&] {
    return ctx.error("shape [{}] has more elements than int64 holds: the input has {}", fmt::join(*shape, ","), n);
  };
  if (infer_at >= 0) {
    int64_t rest = 1;
    for (size_t i = 0; i < out.size(); ++i)
      if (static_cast<int>(i) != infer_at && __builtin_mul_overflow(rest, out[i], &rest)) return too_large();
    if (rest == 0 || n % rest != 0)
      return ctx.error("cannot reshape {} to [{}]: {} elements do not divide into the given dims", dims_str(in),
                       fmt::join(*shape, ","), n);
    out[static_cast<size_t>(infer_at)] = n / rest;
  }
  int64_t out_n = 1;
  for (int64_t d : out)
    if (__builtin_mul_overflow(out_n, d, &out_n)) return too_large();
  if (out_n != n)
    return ctx.error("cannot reshape {} ({} elements) to {} ({} elements): element counts must match", dims_str(in),
                     n, dims_str(out), out_n);
  ctx.set_output(0, dt, out);
  return ok_status();
}

static Status eval(EvalCtx& ctx) { return copy_reshaped(ctx.in(0), ctx.out(0)); }

extern const OpDef kDef = {
    .name = "Reshape",
    .summary = "Gives a tensor a new shape with the same elements.",
    .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .quant_rule = quant_always<QuantKind::kPassThrough>,
    .lowering = Int8Lowering::kMove,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::reshape
