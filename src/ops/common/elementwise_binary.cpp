#include "ops/common/elementwise_binary.h"

namespace qmap::ops {

BroadcastPlan make_broadcast_plan(const Dims& a, const Dims& b, const Dims& out) {
  const size_t r = out.size();
  auto padded = [&](const Dims& d, size_t i) {
    return i < r - d.size() ? int64_t{1} : d[i - (r - d.size())];
  };
  // Collapse: drop output dims of size 1, merge neighbours with the same pattern of which
  // operand is broadcast there. Sizes are in elements.
  BroadcastPlan p;
  std::vector<std::pair<bool, bool>> pattern;  // (a broadcast, b broadcast)
  for (size_t i = 0; i < r; ++i) {
    if (out[i] == 1) continue;
    const std::pair<bool, bool> bc{padded(a, i) == 1, padded(b, i) == 1};
    if (!pattern.empty() && pattern.back() == bc) {
      p.shape.back() *= out[i];
    } else {
      pattern.push_back(bc);
      p.shape.push_back(out[i]);
    }
  }
  if (p.shape.empty()) {  // every dim is 1: one element each
    p.shape = {1};
    p.a_stride = {1};
    p.b_stride = {1};
    return p;
  }
  const size_t n = p.shape.size();
  p.a_stride.assign(n, 0);
  p.b_stride.assign(n, 0);
  int64_t sa = 1, sb = 1;
  for (size_t i = n; i-- > 0;) {
    if (!pattern[i].first) {
      p.a_stride[i] = sa;
      sa *= p.shape[i];
    }
    if (!pattern[i].second) {
      p.b_stride[i] = sb;
      sb *= p.shape[i];
    }
  }
  return p;
}

Status infer_broadcast_binary(InferCtx& ctx, std::initializer_list<DType> allowed) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, allowed));
  if (ctx.dtype(1) != ctx.dtype(0))
    return ctx.error("input 1 has type {} but input 0 has type {}: both inputs must have the same type",
                     dtype_name(ctx.dtype(1)), dtype_name(ctx.dtype(0)));
  if (!ctx.dims_known(0) || !ctx.dims_known(1)) {
    ctx.set_output(0, ctx.dtype(0), std::nullopt);
    return ok_status();
  }
  auto out = broadcast_dims(ctx.dims(0), ctx.dims(1));
  if (!out)
    return ctx.error("input shapes {} and {} cannot be broadcast: right-aligned dimensions must be "
                     "equal or 1 (ONNX multidirectional broadcasting)",
                     dims_str(ctx.dims(0)), dims_str(ctx.dims(1)));
  ctx.set_output(0, ctx.dtype(0), std::move(*out));
  return ok_status();
}

const char* broadcast_kind(const Dims& small, const Dims& out) {
  if (small == out) return "none";
  if (num_elements(small) == 1) return "scalar";
  const size_t r = out.size();
  if (r >= 2 && small.size() <= r) {
    bool channel = true;
    for (size_t i = 0; i < r; ++i) {
      const int64_t d = i < r - small.size() ? 1 : small[i - (r - small.size())];
      if (i == 1 ? d != out[1] : d != 1) channel = false;
    }
    if (channel) return "channel";
  }
  return "general";
}

void npu_params_broadcast(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs,
                          OpParams& params) {
  if (outputs.empty() || !outputs[0] || !ctx.dims_known(0) || !ctx.dims_known(1)) return;
  static constexpr const char* kOrder[] = {"none", "scalar", "channel", "general"};
  auto rank_of = [](const char* k) {
    for (int i = 0; i < 4; ++i)
      if (std::string_view(kOrder[i]) == k) return i;
    return 3;
  };
  const int worst = std::max(rank_of(broadcast_kind(ctx.dims(0), *outputs[0])),
                             rank_of(broadcast_kind(ctx.dims(1), *outputs[0])));
  params.push_back({.name = "broadcast", .ints = {}, .text = kOrder[worst]});
}

}  // namespace qmap::ops

namespace qmap::ops {

Status infer_arith_binary(InferCtx& ctx) {
  return infer_broadcast_binary(
      ctx, {DType::kFloat32, DType::kInt32, DType::kInt64, DType::kUInt8, DType::kInt8});
}

}  // namespace qmap::ops
