// ArgMax (ONNX ArgMax-13): int64 index of the largest element along `axis`. On ties the
// first index wins, or the last with select_last_index = 1 (Caffe's ArgMax picks the
// last: it sorts (value, index) pairs in descending order). NaN compares false, so a NaN
// never replaces the running maximum.
#include "ops/common/helpers.h"

namespace qmap::ops::arg_max {

static const AttrSpec kAttrs[] = {
    {"axis", AttrType::kInt, "0", "axis to reduce; negative counts from the end"},
    {"keepdims", AttrType::kInt, "1", "1 keeps the reduced axis with size 1"},
    {"select_last_index", AttrType::kInt, "0", "1 returns the last index of the maximum on ties"},
};

static Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32, DType::kFloat64, DType::kInt8, DType::kUInt8,
                                             DType::kInt32, DType::kInt64}));
  if (!ctx.dims_known(0)) {
    ctx.set_output(0, DType::kInt64, std::nullopt);
    return ok_status();
  }
  const Dims& d = ctx.dims(0);
  QMAP_ASSIGN_OR_RETURN(int axis, normalize_axis(ctx, "axis", attr_int(ctx.node(), "axis", 0), ctx.rank(0)));
  if (d.empty()) return ctx.error("input is a scalar: ArgMax needs rank >= 1");
  if (d[static_cast<size_t>(axis)] == 0) return ctx.error("axis {} has size 0: there is no maximum", axis);
  Dims out = d;
  if (attr_int(ctx.node(), "keepdims", 1)) out[static_cast<size_t>(axis)] = 1;
  else out.erase(out.begin() + axis);
  ctx.set_output(0, DType::kInt64, out);
  return ok_status();
}

template <typename T>
static void run(const Tensor& x, int axis, bool last, Tensor& y) {
  const Dims& d = x.dims();
  const int64_t outer = num_elements(Dims(d.begin(), d.begin() + axis));
  const int64_t n = d[static_cast<size_t>(axis)];
  const int64_t inner = num_elements(Dims(d.begin() + axis + 1, d.end()));
  auto src = x.data<T>();
  auto dst = y.data<int64_t>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* p = src.data() + o * n * inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < n; ++k) {
        const T v = p[k * inner];
        if (v > p[best * inner] || (last && v == p[best * inner])) best = k;
      }
      dst[static_cast<size_t>(o * inner + i)] = best;
    }
}

static Status eval(EvalCtx& ctx) {
  const Tensor& x = ctx.in(0);
  const int rank = x.rank();
  int64_t axis = attr_int(ctx.node, "axis", 0);
  if (axis < 0) axis += rank;
  const bool last = attr_int(ctx.node, "select_last_index", 0) != 0;
  const int a = static_cast<int>(axis);
  switch (x.dtype()) {
    case DType::kFloat32: run<float>(x, a, last, ctx.out(0)); break;
    case DType::kFloat64: run<double>(x, a, last, ctx.out(0)); break;
    case DType::kInt8: run<int8_t>(x, a, last, ctx.out(0)); break;
    case DType::kUInt8: run<uint8_t>(x, a, last, ctx.out(0)); break;
    case DType::kInt32: run<int32_t>(x, a, last, ctx.out(0)); break;
    case DType::kInt64: run<int64_t>(x, a, last, ctx.out(0)); break;
    default: return ctx.error("input type {} is not supported", dtype_name(x.dtype()));
  }
  return ok_status();
}

extern const OpDef kDef = {
    .name = "ArgMax",
    .summary = "Index of the maximum along an axis, int64 (Caffe ArgMax with top_k 1).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
};

}  // namespace qmap::ops::arg_max
