// ReduceSumSquare (ONNX ReduceSumSquare-13, axes as an attribute): sum of x^2 over `axes`
// (all axes when absent). Accumulates in double so the result does not depend on the
// reduction order. Caffe's Normalize (SSD) maps onto it.
#include <set>

#include "ops/common/helpers.h"

namespace qmap::ops::reduce_sum_square {

static const AttrSpec kAttrs[] = {
    {"axes", AttrType::kInts, "all", "axes to reduce; negative counts from the end"},
    {"keepdims", AttrType::kInt, "1", "1 keeps the reduced axes with size 1"},
};

// Reduced axes as a per-dimension mask; errors on out-of-range or repeated axes.
static Result<std::vector<bool>> reduced_mask(const InferCtx* ctx, const Node& n, int rank) {
  std::vector<bool> mask(static_cast<size_t>(rank), !n.has_attr("axes"));
  for (int64_t a : attr_ints(n, "axes")) {
    int64_t k = a < 0 ? a + rank : a;
    if (k < 0 || k >= rank) {
      if (ctx) return ctx->error("axis {} is out of range for a rank-{} input", a, rank);
      return error("axis {} out of range", a);
    }
    if (mask[static_cast<size_t>(k)] && n.has_attr("axes")) {
      if (ctx) return ctx->error("axis {} is listed twice in axes", a);
      return error("axis {} repeated", a);
    }
    mask[static_cast<size_t>(k)] = true;
  }
  return mask;
}

static Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32}));
  if (!ctx.dims_known(0)) {
    ctx.set_output(0, DType::kFloat32, std::nullopt);
    return ok_status();
  }
  const Dims& d = ctx.dims(0);
  QMAP_ASSIGN_OR_RETURN(std::vector<bool> mask, reduced_mask(&ctx, ctx.node(), ctx.rank(0)));
  const bool keep = attr_int(ctx.node(), "keepdims", 1) != 0;
  Dims out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (!mask[i]) out.push_back(d[i]);
    else if (keep) out.push_back(1);
  }
  ctx.set_output(0, DType::kFloat32, out);
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  const Tensor& x = ctx.in(0);
  const Dims& d = x.dims();
  QMAP_ASSIGN_OR_RETURN(std::vector<bool> mask, reduced_mask(nullptr, ctx.node, x.rank()));
  // Output strides over the input's dims with reduced axes collapsed to size 1.
  Dims kept = d;
  for (size_t i = 0; i < d.size(); ++i)
    if (mask[i]) kept[i] = 1;
  const Dims in_strides = strides_of(d);
  const Dims out_strides = strides_of(kept);
  std::vector<double> acc(static_cast<size_t>(num_elements(kept)), 0.0);
  auto src = x.data<float>();
  std::vector<int64_t> idx(d.size(), 0);
  for (int64_t flat = 0; flat < x.numel(); ++flat) {
    int64_t o = 0;
    int64_t rem = flat;
    for (size_t k = 0; k < d.size(); ++k) {
      const int64_t ik = rem / in_strides[k];
      rem %= in_strides[k];
      if (!mask[k]) o += ik * out_strides[k];
    }
    const double v = src[static_cast<size_t>(flat)];
    acc[static_cast<size_t>(o)] += v * v;
  }
  auto dst = ctx.out(0).data<float>();
  for (size_t i = 0; i < acc.size(); ++i) dst[i] = static_cast<float>(acc[i]);
  return ok_status();
}

extern const OpDef kDef = {
    .name = "ReduceSumSquare",
    .summary = "Sum of squares over axes (Caffe Normalize's norm).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
};

}  // namespace qmap::ops::reduce_sum_square
