#include "ops/common/helpers.h"

namespace qmap::ops {

Result<int> normalize_axis(const InferCtx& ctx, const char* what, int64_t axis, int rank) {
  if (axis < -rank || axis >= std::max(rank, 1))
    return ctx.error("{} {} is out of range for a rank-{} input: must be in [{}, {}]", what, axis,
                     rank, -rank, std::max(rank, 1) - 1);
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

std::optional<Dims> broadcast_dims(const Dims& a, const Dims& b) {
  const size_t r = std::max(a.size(), b.size());
  Dims out(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da == db || db == 1) out[i] = da;
    else if (da == 1) out[i] = db;
    else return std::nullopt;
  }
  return out;
}

Status expect_dtype(const InferCtx& ctx, int i, std::initializer_list<DType> allowed) {
  for (DType t : allowed)
    if (ctx.dtype(i) == t) return ok_status();
  std::string names;
  for (DType t : allowed) names += std::string(names.empty() ? "" : ", ") + dtype_name(t);
  return ctx.error("input {} has type {}: supported types are {}", i, dtype_name(ctx.dtype(i)), names);
}

Status infer_unary_float(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32}));
  ctx.set_output(0, DType::kFloat32, ctx.input(0).dims);
  return ok_status();
}

Dims strides_of(const Dims& dims) {
  Dims s(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) s[i - 1] = s[i] * dims[i];
  return s;
}

BroadcastIndexer::BroadcastIndexer(const Dims& in, const Dims& out) : out_(out) {
  same_ = in == out;
  const size_t r = out.size();
  in_stride_.assign(r, 0);
  const Dims s = strides_of(in);
  for (size_t i = 0; i < in.size(); ++i) {
    const size_t d = r - in.size() + i;
    in_stride_[d] = in[i] == 1 ? 0 : s[i];
  }
}

}  // namespace qmap::ops
