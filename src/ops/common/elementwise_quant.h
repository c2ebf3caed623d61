// Shared parameter handling of QuantizeLinear / DequantizeLinear (ONNX opset 13):
// a float32 scale and an optional zero point, either per tensor (a scalar or a 1-element
// tensor) or per axis (1-D, length dims[axis], axis attribute default 1).
#pragma once

#include "ops/common/helpers.h"

namespace qmap::ops {

// The `axis` attribute of both ops.
inline constexpr AttrSpec kQuantAxisAttr = {
    "axis", AttrType::kInt, "1",
    "axis of per-axis scale / zero point; ignored for per-tensor; negative counts from the back"};

// Validates inputs 1 (scale, float32) and 2 (zero point, optional, dtype among zp_types)
// against input 0 and the axis attribute. Names are the ONNX input names for messages.
Status check_quant_params(const InferCtx& ctx, const char* scale_name, const char* zp_name,
                          std::initializer_list<DType> zp_types);

// Iteration layout of x for a (possibly per-axis) scale: element (o, c, i) of x viewed as
// outer x channels x inner uses scale[c]; per tensor, channels = 1.
struct QuantLayout {
  int64_t outer = 1, channels = 1, inner = 1;
};
QuantLayout quant_layout(const Dims& x, const Dims& scale, int64_t axis);

// Calls f(flat_index, c) for every element of x in order, c the scale / zero-point index.
template <typename F>
void for_each_quant(const QuantLayout& l, F f) {
  int64_t i = 0;
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t c = 0; c < l.channels; ++c)
      for (int64_t k = 0; k < l.inner; ++k) f(i++, c);
}

// Rounds to the nearest integer, ties to even (ONNX QuantizeLinear), independent of the
// floating-point rounding mode. NaN maps to 0.
float round_half_even(float v);

// npu_params of both ops: `mode` "per_tensor" or "per_axis", and `axis` when per axis.
void npu_params_quant(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs,
                      OpParams& params);

}  // namespace qmap::ops
