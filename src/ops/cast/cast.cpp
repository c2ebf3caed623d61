// Cast (ONNX Cast-13): converts every element to the dtype `to` (an ONNX TensorProto
// DataType code). Targets are the IR dtypes; float->integer truncates toward zero and
// saturates out-of-range values (ONNX leaves them undefined), NaN -> 0; any -> bool is
// value != 0 (NaN -> true). FLOAT16, BFLOAT16, STRING, ... are not IR types and are rejected.
#include <algorithm>
#include <climits>

#include "ops/common/elementwise_copy.h"
#include "ops/common/helpers.h"

namespace qmap::ops::cast {

static constexpr AttrSpec kAttrs[] = {
    {"to", AttrType::kInt, nullptr, "target element type (ONNX TensorProto.DataType code)"},
};

static Status infer(InferCtx& ctx) {
  if (!ctx.node().has_attr("to")) return ctx.error("attribute 'to' is missing: it is required");
  const int64_t to = attr_int(ctx.node(), "to", 0);
  DType t = DType::kUndefined;
  if (to < INT32_MIN || to > INT32_MAX || !dtype_from_onnx(static_cast<int32_t>(to), &t))
    return ctx.error("to {} ({}) is not supported: supported targets are FLOAT, DOUBLE, UINT8, "
                     "INT8, INT32, INT64, BOOL",
                     to, onnx_dtype_name(static_cast<int32_t>(std::clamp<int64_t>(to, -1, 1000))));
  if (ctx.dtype(0) == DType::kUndefined) return ctx.error("input type is undefined");
  ctx.set_output(0, t, ctx.input(0).dims);
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  copy_tensor_bytes(cast_tensor(ctx.in(0), ctx.out(0).dtype()), ctx.out(0));
  return ok_status();
}

// The Cast of a uint8 image input becomes DequantizeLinear(scale 1, zero point 0).
static QuantKind quant_rule(const Graph& g, const Node& n, std::string* why) {
  const Value& in = g.value(n.inputs[0]);
  const bool image = in.dtype == DType::kUInt8 && !in.constant &&
                     std::find(g.inputs.begin(), g.inputs.end(), n.inputs[0]) != g.inputs.end();
  if (image) return QuantKind::kImageInput;
  *why = "Cast other than of a uint8 image input";
  return QuantKind::kFloat;
}

// A Cast from uint8 (an image input) holds only non-negative values.
static bool non_negative(const Graph& g, const Node& n, const InputSigns&) {
  return g.value(n.inputs[0]).dtype == DType::kUInt8;
}

extern const OpDef kDef = {
    .name = "Cast",
    .summary = "Converts elements to another dtype (float->int truncates toward zero, saturating).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .quant_rule = quant_rule,
    .lowering = Int8Lowering::kDequantize,
    .output_non_negative = non_negative,
};

}  // namespace qmap::ops::cast
