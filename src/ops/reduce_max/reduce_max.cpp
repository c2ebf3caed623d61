// ReduceMax (ONNX ReduceMax-13, opset 13-17 form): maximum over `axes`, for float32/float64
// and the integer types (int8, uint8, int32, int64). A NaN in a float slice gives NaN, as
// numpy.max does.
#include <cmath>
#include <limits>

#include "ops/common/tensor_reduce.h"
#include "ops/common/int8_rules.h"

namespace qmap::ops::reduce_max {

static Status infer(InferCtx& ctx) {
  return infer_reduce(ctx, {DType::kFloat32, DType::kFloat64, DType::kInt8, DType::kUInt8, DType::kInt32,
                            DType::kInt64});
}

template <typename T>
static void run(EvalCtx& ctx) {
  reduce_eval<T>(
      ctx, std::numeric_limits<T>::lowest(),
      [](T& acc, T x) {
        if constexpr (std::is_floating_point_v<T>) {
          if (std::isnan(x) || std::isnan(acc)) {
            acc = std::numeric_limits<T>::quiet_NaN();
            return;
          }
        }
        if (x > acc) acc = x;
      },
      [](T acc, int64_t) { return acc; });
}

static Status eval(EvalCtx& ctx) {
  const bool known = visit_arithmetic_dtype(ctx.in(0).dtype(), [&](auto tag) { run<decltype(tag)>(ctx); });
  if (!known) return ctx.error("input type {} is not supported", dtype_name(ctx.in(0).dtype()));
  return ok_status();
}

// Over H and W of an NCHW tensor it is global max pooling.
static QuantKind quant_rule(const Graph& g, const Node& n, std::string* why) {
  if (reduces_spatial_axes(g, n)) return QuantKind::kPassThrough;
  *why = "ReduceMax over axes other than H and W of a 4-D tensor";
  return QuantKind::kFloat;
}

extern const OpDef kDef = {
    .name = "ReduceMax",
    .summary = "Maximum of the elements over some axes.",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kReduceAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = reduce_npu_params,
    .quant_rule = quant_rule,
    .lowering = Int8Lowering::kPool,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::reduce_max
