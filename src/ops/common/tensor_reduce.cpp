#include "ops/common/tensor_reduce.h"

#include "ops/common/tensor_args.h"

namespace qmap::ops {

// Reduced axes in [0, rank), sorted; all axes when the attribute is absent or empty.
static std::vector<bool> reduced_mask(const Node& node, size_t rank) {
  const auto axes = attr_ints(node, "axes");
  std::vector<bool> mask(rank, axes.empty());
  for (int64_t a : axes) mask[static_cast<size_t>(a < 0 ? a + static_cast<int64_t>(rank) : a)] = true;
  return mask;
}

Dims reduce_keepdims_shape(const Node& node, const Dims& in) {
  const auto mask = reduced_mask(node, in.size());
  Dims out = in;
  for (size_t d = 0; d < in.size(); ++d)
    if (mask[d]) out[d] = 1;
  return out;
}

Status infer_reduce(InferCtx& ctx, std::initializer_list<DType> allowed) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, allowed));
  const DType dt = ctx.dtype(0);
  const int64_t keepdims = attr_int(ctx.node(), "keepdims", 1);
  if (keepdims != 0 && keepdims != 1) return ctx.error("keepdims {} is not valid: must be 0 or 1", keepdims);
  if (!ctx.dims_known(0)) {
    ctx.set_output(0, dt, std::nullopt);
    return ok_status();
  }
  const Dims& in = ctx.dims(0);
  QMAP_RETURN_IF_ERROR(
      normalize_axes(ctx, "axes", attr_ints(ctx.node(), "axes"), static_cast<int>(in.size())).status());
  const auto mask = reduced_mask(ctx.node(), in.size());
  Dims out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (mask[d] && in[d] == 0)
      return ctx.error("axis {} has length 0: reducing an empty axis has no value", d);
    if (!mask[d]) out.push_back(in[d]);
    else if (keepdims) out.push_back(1);
  }
  ctx.set_output(0, dt, out);
  return ok_status();
}

// Targets limit the reduced axes (e.g. spatial-only global pooling).
void reduce_npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs, OpParams& params) {
  if (!ctx.dims_known(0)) return;
  const auto mask = reduced_mask(ctx.node(), ctx.dims(0).size());
  std::vector<int64_t> axes;
  for (size_t d = 0; d < mask.size(); ++d)
    if (mask[d]) axes.push_back(static_cast<int64_t>(d));
  params.push_back({"axis", axes, ""});
}

}  // namespace qmap::ops
