// The quantize family's lowering: float -> QuantizeLinear (per tensor, 8-bit or int16) becomes
// kQuantize, after the float input is computed.
#include "quant/lowerer.h"

namespace qmap::lowering {

Result<bool> lower_quantize(Lowerer& L, size_t ni) {
  const Node& n = L.graph().nodes[ni];
  QMAP_RETURN_IF_ERROR(L.materialize(n.inputs[0]));
  auto qp = L.qparams(n);
  const ValueId x = n.inputs[0];
  if (!qp || !qp->per_tensor() || !is_quant_activation(qp->qtype) ||
      (qp->qtype == DType::kInt16 && !qp->zero_points_zero()) || L.graph().value(x).dtype != DType::kFloat32 ||
      L.tensor_of(x) < 0)
    return false;
  Step s = L.new_step(StepKind::kQuantize, n);
  s.inputs = {L.tensor_of(x)};
  const int32_t t = L.add_tensor(n.outputs[0]);
  L.program().tensors[static_cast<size_t>(t)].quant = qp->quant();
  s.outputs = {t};
  L.emit_step(ni, std::move(s));
  return true;
}

}  // namespace qmap::lowering
