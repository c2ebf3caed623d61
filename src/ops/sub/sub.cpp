// Sub (ONNX Sub-14): C = A - B, with multidirectional broadcasting.
// float32 and int32/int64/uint8/int8; integer overflow wraps like ONNX Runtime.
#include "ops/common/elementwise_binary.h"

namespace qmap::ops::sub {

struct SubFn {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return wrap_sub(a, b);
    else return a - b;
  }
};

// Sub of a constant became an Add in the float passes; what reaches the quantizer subtracts a
// tensor, which the integer add (positive Q31 multipliers) cannot.
static QuantKind quant_rule(const Graph&, const Node&, std::string* why) {
  *why = "Sub of a tensor (the integer add has no subtracting form; Sub of a constant becomes an Add)";
  return QuantKind::kFloat;
}

extern const OpDef kDef = {
    .name = "Sub",
    .summary = "Elementwise subtraction with numpy-style broadcasting, C = A - B.",
    .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer_arith_binary,
    .eval = eval_arith<SubFn>,
    .npu_params = npu_params_broadcast,
    .in_place = true,
    .quant_rule = quant_rule,
    .int8_via = "canonicalize_sub_div: Sub of a constant becomes an Add of its negation",
};

}  // namespace qmap::ops::sub
