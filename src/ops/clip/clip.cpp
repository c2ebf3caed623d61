// Clip (ONNX Clip-13): y = min(max(x, min), max), with min and max as optional scalar inputs
// (absent: the type's lowest / highest value). When min > max every output equals max, as the
// spec states. Types: float32 and int32/int64/uint8/int8 (test_clip_default_int8_*).
// Clip-6 (opsets 6-10) carried min/max as float attributes; the upgrade hook turns them into
// scalar constant inputs.
#include <cfloat>

#include "ops/common/elementwise_binary.h"
#include "ops/common/int8_rules.h"

namespace qmap::ops::clip {

static Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(
      expect_dtype(ctx, 0, {DType::kFloat32, DType::kInt32, DType::kInt64, DType::kUInt8, DType::kInt8}));
  for (int i = 1; i <= 2; ++i) {
    if (!ctx.has_input(i)) continue;
    const char* what = i == 1 ? "min" : "max";
    if (ctx.dtype(i) != ctx.dtype(0))
      return ctx.error("{} has type {} but input has type {}: they must match", what,
                       dtype_name(ctx.dtype(i)), dtype_name(ctx.dtype(0)));
    // ONNX requires a scalar; a 1-element 1-D tensor is accepted as ONNX Runtime does.
    if (ctx.dims_known(i) && !(ctx.dims(i).empty() || ctx.dims(i) == Dims{1}))
      return ctx.error("{} has shape {}: it must be a scalar", what, dims_str(ctx.dims(i)));
  }
  ctx.set_output(0, ctx.dtype(0), ctx.input(0).dims);
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  const Tensor& x = ctx.in(0);
  dispatch_arith(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T lo = ctx.has(1) ? ctx.in(1).data<T>()[0] : std::numeric_limits<T>::lowest();
    const T hi = ctx.has(2) ? ctx.in(2).data<T>()[0] : std::numeric_limits<T>::max();
    auto src = x.data<T>();
    auto dst = ctx.out(0).data<T>();
    // std::max/std::min return their first argument on NaN comparisons, so NaN propagates.
    for (size_t i = 0; i < src.size(); ++i) dst[i] = std::min(std::max(src[i], lo), hi);
  });
  return ok_status();
}

// Clip-6: attributes min (default -FLT_MAX) and max (default FLT_MAX) -> inputs 1 and 2.
// Omitted attributes become omitted inputs: for float32 the Clip-13 defaults are the same
// -FLT_MAX / FLT_MAX. Clip-1's `consumed_inputs` is dropped.
static Status upgrade(Graph& graph, int64_t opset, std::vector<Node>& nodes) {
  if (opset >= 11) return ok_status();
  Node& node = nodes.front();
  if (node.inputs.size() > 1) node.inputs.erase(node.inputs.begin() + 1, node.inputs.end());
  ValueId bound[2] = {kNoValue, kNoValue};
  const char* names[2] = {"min", "max"};
  for (int i = 0; i < 2; ++i) {
    auto it = node.attrs.find(names[i]);
    if (it == node.attrs.end()) continue;
    const float* v = std::get_if<float>(&it->second);
    if (v == nullptr)
      return error("Clip '{}': attribute {} has type {}: Clip-6 expects a float", node.name,
                   names[i], attr_type_name(attr_type_of(it->second)));
    bound[i] = graph.add_constant(graph.unique_value_name(node.name + "_" + names[i]),
                                  Tensor::scalar<float>(*v));
    node.attrs.erase(it);
  }
  if (bound[0] != kNoValue || bound[1] != kNoValue) node.inputs.push_back(bound[0]);
  if (bound[1] != kNoValue) node.inputs.push_back(bound[1]);
  node.attrs.erase("consumed_inputs");
  return ok_status();
}

// `mode`: what an NPU can fuse as an activation: "relu6" (0..6), "relu" (0..+inf),
// "range" (other constant bounds) or "dynamic" (bounds computed at run time).
static void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>>, OpParams& params) {
  const bool dyn = (ctx.has_input(1) && !ctx.value(1)) || (ctx.has_input(2) && !ctx.value(2));
  std::string mode = "range";
  if (dyn) {
    mode = "dynamic";
  } else if (ctx.dtype(0) == DType::kFloat32) {
    const float lo = ctx.value(1) ? ctx.value(1)->data<float>()[0] : -FLT_MAX;
    const float hi = ctx.value(2) ? ctx.value(2)->data<float>()[0] : FLT_MAX;
    if (lo == 0.f && hi == 6.f) mode = "relu6";
    else if (lo == 0.f && hi == FLT_MAX) mode = "relu";
  }
  params.push_back({.name = "mode", .ints = {}, .text = mode});
}

static QuantKind quant_rule(const Graph& g, const Node& n, std::string* why) {
  if ((input_present(n, 1) && !constant_input(g, n, 1)) || (input_present(n, 2) && !constant_input(g, n, 2))) {
    *why = "Clip with non-constant bounds";
    return QuantKind::kFloat;
  }
  return QuantKind::kTable;
}

// Non-negative when min >= 0, or when the input is (Clip only narrows it further); with
// max < min every output equals max, so max must be >= 0 too.
static bool non_negative(const Graph& g, const Node& n, const InputSigns& in) {
  const Tensor* lo = ops::constant_input(g, n, 1);
  const Tensor* hi = ops::constant_input(g, n, 2);
  return (!hi || ops::all_non_negative(*hi)) && ((lo && ops::all_non_negative(*lo)) || in.non_negative(0));
}

extern const OpDef kDef = {
    .name = "Clip",
    .summary = "Clamps every element to [min, max]; min and max are optional scalar inputs.",
    .min_inputs = 1, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer,
    .eval = eval,
    .upgrade_onnx = upgrade,
    .npu_params = npu_params,
    .in_place = true,
    .quant_rule = quant_rule,
    .lowering = Int8Lowering::kTable,
    .output_non_negative = non_negative,
};

}  // namespace qmap::ops::clip
