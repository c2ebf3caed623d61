// IntProgram helpers: step names and statistics.
#include "quant/int_program.h"

namespace qmap {

const char* step_kind_name(StepKind k) {
  switch (k) {
    case StepKind::kQuantize: return "quantize";
    case StepKind::kDequantize: return "dequantize";
    case StepKind::kConv: return "conv";
    case StepKind::kConvFloatOut: return "conv_float_out";
    case StepKind::kAdd: return "add";
    case StepKind::kMul: return "mul";
    case StepKind::kLut: return "lut";
    case StepKind::kMaxPool: return "maxpool";
    case StepKind::kAvgPool: return "avgpool";
    case StepKind::kConcat: return "concat";
    case StepKind::kMove: return "move";
    case StepKind::kFloat: return "float";
  }
  return "?";
}

ProgramStats IntProgram::stats() const {
  ProgramStats s;
  for (const Step& st : steps) {
    ++s.by_kind[step_kind_name(st.kind)];
    if (st.kind == StepKind::kFloat) ++s.float_steps;
    else if (st.kind == StepKind::kQuantize || st.kind == StepKind::kDequantize) ++s.border_steps;
    else ++s.integer_steps;
  }
  return s;
}

}  // namespace qmap

#include "ops/registry.h"

namespace qmap {

Result<std::vector<Tensor>> eval_node(const Node& node, const std::vector<const Tensor*>& inputs) {
  const OpDef& def = op_def(node.op);
  std::vector<TensorInfo> infos;
  for (const Tensor* t : inputs) infos.push_back(tensor_info_of(t));
  InferCtx ictx(node, infos);
  QMAP_RETURN_IF_ERROR(def.infer(ictx));
  std::vector<Tensor> outs;
  for (const auto& o : ictx.outputs()) outs.push_back(Tensor::uninitialized(o.dtype, *o.dims));
  EvalCtx ectx{node, inputs, outs};
  QMAP_RETURN_IF_ERROR(def.eval(ectx));
  return outs;
}

}  // namespace qmap
