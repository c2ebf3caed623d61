// Gather (ONNX Gather-13): out = data indexed along `axis` by `indices` (int32/int64, any rank,
// negative counts from the back). Output dims: data[:axis] + indices + data[axis+1:].
// Every IR dtype for data. An out-of-range index is an eval error naming it.
#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"
#include "ops/common/tensor_copy.h"

namespace qmap::ops::gather {

static const AttrSpec kAttrs[] = {
    {"axis", AttrType::kInt, "0", "data axis to gather on; negative counts from the back"},
};

static Status infer(InferCtx& ctx) {
  const DType dt = ctx.dtype(0);
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 1, {DType::kInt64, DType::kInt32}));
  if (!ctx.dims_known(0) || !ctx.dims_known(1)) return set_unknown_output(ctx, dt);
  const Dims& data = ctx.dims(0);
  if (data.empty()) return ctx.error("data is a scalar: Gather needs rank >= 1");
  QMAP_ASSIGN_OR_RETURN(const int axis, normalize_axis(ctx, "axis", attr_int(ctx.node(), "axis", 0),
                                                       static_cast<int>(data.size())));
  // Known indices are checked now so the error comes at import, not at run time.
  if (const Tensor* idx = ctx.value(1)) {
    const int64_t n = data[static_cast<size_t>(axis)];
    for (int64_t i : idx->to_int64())
      if (i < -n || i >= n)
        return ctx.error("index {} is out of range for axis {} of length {}: must be in [{}, {}]", i, axis, n, -n, n - 1);
  }
  Dims out(data.begin(), data.begin() + axis);
  out.insert(out.end(), ctx.dims(1).begin(), ctx.dims(1).end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  ctx.set_output(0, dt, out);
  return ok_status();
}

// Viewed as data [outer, n, inner] -> out [outer, k, inner] with k = numel(indices), so the
// gather is one axis map over a rank-3 view.
static Status eval(EvalCtx& ctx) {
  const Tensor& x = ctx.in(0);
  const int rank = x.rank();
  int64_t axis = attr_int(ctx.node, "axis", 0);
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dims()[static_cast<size_t>(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= x.dims()[static_cast<size_t>(d)];
  const int64_t n = x.dims()[static_cast<size_t>(axis)];
  std::vector<int64_t> idx = ctx.in(1).to_int64();
  for (int64_t& i : idx) {
    if (i < -n || i >= n)
      return ctx.error("index {} is out of range for axis {} of length {}: must be in [{}, {}]", i, axis, n, -n, n - 1);
    if (i < 0) i += n;
  }
  const int64_t k = static_cast<int64_t>(idx.size());
  Tensor y3 = ctx.out(0).reshaped({outer, k, inner});  // shares the output buffer
  gather_by_axis_maps(x.reshaped({outer, n, inner}), y3,
                      {identity_map(outer), std::move(idx), identity_map(inner)});
  return ok_status();
}


extern const OpDef kDef = {
    .name = "Gather",
    .summary = "Gathers slices of a tensor along one axis by index.",
    .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = axis_npu_params,
};

}  // namespace qmap::ops::gather
