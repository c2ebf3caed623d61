#include "ops/common/elementwise_quant.h"

namespace qmap::ops {

namespace {
bool per_tensor(const Dims& scale) { return num_elements(scale) == 1 && scale.size() <= 1; }
}  // namespace

Status check_quant_params(const InferCtx& ctx, const char* scale_name, const char* zp_name,
                          std::initializer_list<DType> zp_types) {
  if (ctx.dtype(1) != DType::kFloat32)
    return ctx.error("{} has type {}: it must be float32", scale_name, dtype_name(ctx.dtype(1)));
  if (ctx.has_input(2)) {
    bool ok = false;
    std::string names;
    for (DType t : zp_types) {
      ok = ok || ctx.dtype(2) == t;
      names += std::string(names.empty() ? "" : ", ") + dtype_name(t);
    }
    if (!ok)
      return ctx.error("{} has type {}: supported types here are {}", zp_name,
                       dtype_name(ctx.dtype(2)), names);
  }
  if (!ctx.dims_known(1)) return ok_status();
  const Dims& s = ctx.dims(1);
  if (s.size() > 1)
    return ctx.error("{} has shape {}: it must be a scalar (per tensor) or 1-D (per axis)",
                     scale_name, dims_str(s));
  if (ctx.dims_known(2) && ctx.dims(2) != s && !(per_tensor(s) && per_tensor(ctx.dims(2))))
    return ctx.error("{} has shape {} but {} has shape {}: they must match", zp_name,
                     dims_str(ctx.dims(2)), scale_name, dims_str(s));
  if (per_tensor(s) || !ctx.dims_known(0)) return ok_status();
  QMAP_ASSIGN_OR_RETURN(int axis, normalize_axis(ctx, "axis", attr_int(ctx.node(), "axis", 1), ctx.rank(0)));
  if (ctx.rank(0) == 0)
    return ctx.error("{} has shape {} but the input is a scalar: per-axis needs rank >= 1",
                     scale_name, dims_str(s));
  const int64_t n = ctx.dims(0)[static_cast<size_t>(axis)];
  if (s[0] != n)
    return ctx.error("{} has {} elements but input dimension {} (axis) is {}: per-axis scales "
                     "need one per index of the axis", scale_name, s[0], axis, n);
  return ok_status();
}

QuantLayout quant_layout(const Dims& x, const Dims& scale, int64_t axis) {
  QuantLayout l;
  l.outer = num_elements(x);
  if (per_tensor(scale)) return l;
  if (axis < 0) axis += static_cast<int64_t>(x.size());
  l.outer = 1;
  for (int64_t i = 0; i < axis; ++i) l.outer *= x[static_cast<size_t>(i)];
  l.channels = x[static_cast<size_t>(axis)];
  for (size_t i = static_cast<size_t>(axis) + 1; i < x.size(); ++i) l.inner *= x[i];
  return l;
}

float round_half_even(float v) {
  if (std::isnan(v)) return 0.f;
  float r = std::floor(v);  // exact; |v| >= 2^23 is already an integer, so diff is 0
  const float diff = v - r;
  if (diff > 0.5f || (diff == 0.5f && std::fmod(r, 2.f) != 0.f)) r += 1.f;
  return r;
}

void npu_params_quant(const InferCtx& ctx, std::span<const std::optional<Dims>>, OpParams& params) {
  if (!ctx.dims_known(1) || !ctx.dims_known(0)) return;
  if (per_tensor(ctx.dims(1))) {
    params.push_back({.name = "mode", .ints = {}, .text = "per_tensor"});
    return;
  }
  int64_t axis = attr_int(ctx.node(), "axis", 1);
  if (axis < 0) axis += ctx.rank(0);
  params.push_back({.name = "mode", .ints = {}, .text = "per_axis"});
  params.push_back({.name = "axis", .ints = {axis}, .text = {}});
}

}  // namespace qmap::ops
