// Dropout (ONNX Dropout-13), inference semantics: y = x and the optional mask output is all
// true. Inputs ratio (float scalar, default 0.5) and training_mode (bool scalar, default
// false) are optional. Training mode with ratio > 0 drops random elements, which a
// deterministic converter cannot reproduce, so it is rejected.
// Dropout-7..11 had `ratio` as an attribute (and Dropout-7/9 a mask of the data's type); the
// upgrade hook converts them.
#include "ops/common/elementwise_copy.h"
#include "ops/common/helpers.h"
#include "ops/registry.h"

namespace qmap::ops::dropout {

static constexpr AttrSpec kAttrs[] = {
    {"seed", AttrType::kInt, "unset", "random seed (optional; unused in inference mode)"},
};

// Status of (ratio, training_mode) when both are known; ok when training is off or ratio 0.
static Status check_training(const Node& node, const Tensor* ratio, const Tensor* training) {
  if (training == nullptr || !training->data<bool>()[0]) return ok_status();
  const double r = ratio ? ratio->to_double()[0] : 0.5;
  if (r == 0.0) return ok_status();
  return error("Dropout '{}': training_mode is true with ratio {}: random dropping is not "
               "supported (results would be nondeterministic); export the model in eval mode",
               node.name, r);
}

static Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32, DType::kFloat64}));
  if (ctx.has_input(1)) {
    QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 1, {DType::kFloat32, DType::kFloat64}));
    if (ctx.dims_known(1) && num_elements(ctx.dims(1)) != 1)
      return ctx.error("ratio has shape {}: it must be a scalar", dims_str(ctx.dims(1)));
    if (const Tensor* r = ctx.value(1)) {
      const double v = r->to_double()[0];
      if (!(v >= 0.0 && v < 1.0)) return ctx.error("ratio {} is out of range: must be in [0, 1)", v);
    }
  }
  if (ctx.has_input(2)) {
    QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 2, {DType::kBool}));
    if (ctx.dims_known(2) && num_elements(ctx.dims(2)) != 1)
      return ctx.error("training_mode has shape {}: it must be a scalar", dims_str(ctx.dims(2)));
    if (ctx.value(2) && (!ctx.has_input(1) || ctx.value(1)))
      QMAP_RETURN_IF_ERROR(check_training(ctx.node(), ctx.value(1), ctx.value(2)));
  }
  ctx.set_output(0, ctx.dtype(0), ctx.input(0).dims);
  ctx.set_output(1, DType::kBool, ctx.input(0).dims);
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  // training_mode computed at run time: checked here, since infer could not.
  if (ctx.has(2)) QMAP_RETURN_IF_ERROR(check_training(ctx.node, ctx.has(1) ? &ctx.in(1) : nullptr, &ctx.in(2)));
  copy_tensor_bytes(ctx.in(0), ctx.out(0));
  if (ctx.outputs.size() > 1 && ctx.out(1).defined())
    for (bool& m : ctx.out(1).data<bool>()) m = true;
  return ok_status();
}

// Opsets < 12: `ratio` attribute -> constant input 1; `is_test` (Dropout-6, always inference
// here) and `consumed_inputs` (Dropout-1) are dropped. Opsets < 10 typed the mask like the
// data (all ones in inference), so a used mask output gets a Cast from the bool mask.
static Status upgrade(Graph& graph, int64_t opset, std::vector<Node>& nodes) {
  if (opset >= 12) return ok_status();
  Node& node = nodes.front();
  if (node.inputs.size() > 1) node.inputs.erase(node.inputs.begin() + 1, node.inputs.end());
  if (auto it = node.attrs.find("ratio"); it != node.attrs.end()) {
    const float* r = std::get_if<float>(&it->second);
    if (r == nullptr)
      return error("Dropout '{}': attribute ratio has type {}: expected a float", node.name,
                   attr_type_name(attr_type_of(it->second)));
    node.inputs.push_back(graph.add_constant(graph.unique_value_name(node.name + "_ratio"),
                                             Tensor::scalar<float>(*r)));
    node.attrs.erase(it);
  }
  node.attrs.erase("is_test");
  node.attrs.erase("consumed_inputs");
  if (opset >= 10 || node.outputs.size() < 2 || node.outputs[1] == kNoValue) return ok_status();
  auto cast_id = op_by_name("Cast");
  QMAP_CHECK(cast_id.has_value(), "Cast is part of the elementwise family");
  const ValueId mask = node.outputs[1];
  const ValueId x = node.inputs.empty() ? kNoValue : node.inputs[0];
  // The mask type is the data type; float32 unless the importer already knows otherwise.
  const DType t = x != kNoValue && graph.value(x).dtype != DType::kUndefined ? graph.value(x).dtype
                                                                              : DType::kFloat32;
  const ValueId bool_mask = graph.add_value(graph.unique_value_name(graph.value(mask).name + "/bool"),
                                            DType::kBool);
  node.outputs[1] = bool_mask;
  Node cast;
  cast.name = node.name + "/mask_cast";
  cast.op = *cast_id;
  cast.op_type = "Cast";
  cast.inputs = {bool_mask};
  cast.outputs = {mask};
  cast.attrs["to"] = static_cast<int64_t>(t);
  nodes.push_back(std::move(cast));
  return ok_status();
}

extern const OpDef kDef = {
    .name = "Dropout",
    .summary = "Inference-mode dropout: y = x; the optional mask output is all true.",
    .min_inputs = 1, .max_inputs = 3, .min_outputs = 1, .max_outputs = 2,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .upgrade_onnx = upgrade,
};

}  // namespace qmap::ops::dropout
