// Add (ONNX Add-14): C = A + B, with multidirectional broadcasting.
// float32 and int32/int64/uint8/int8; integer overflow wraps like ONNX Runtime.
#include "ops/common/elementwise_binary.h"
#include "ops/common/int8_rules.h"

namespace qmap::ops::add {

struct AddFn {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return wrap_add(a, b);
    else return a + b;
  }
};

extern const OpDef kDef = {
    .name = "Add",
    .summary = "Elementwise addition with numpy-style broadcasting, C = A + B.",
    .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer_arith_binary,
    .eval = eval_arith<AddFn>,
    .npu_params = npu_params_broadcast,
    .in_place = true,
    .quant_rule = quant_rule_binary,
    .lowering = Int8Lowering::kBinary,
    .output_non_negative = non_negative_as_all_inputs,
};

}  // namespace qmap::ops::add
