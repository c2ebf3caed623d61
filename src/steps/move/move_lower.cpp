// The move family's lowering: DQ -> Reshape|Flatten|Transpose|Squeeze|Unsqueeze|Slice|Split|
// Pad(constant)|Identity|Resize(nearest) -> Q (same scale and zero point) becomes kMove, run by
// the op's own eval on the 8-bit codes.
#include "quant/lowerer.h"

namespace qmap::lowering {

// Data movement on the 8-bit values: valid when every output is re-quantized with the
// input's own scale and zero point (the quantizer propagates thresholds through these ops).
Result<bool> lower_move(Lowerer& L, size_t ni) {
  const Node& n = L.graph().nodes[ni];
  if (n.op == OpId::Pad && attr_string(n, "mode", "constant") != "constant") return false;
  if (n.op == OpId::Resize && attr_string(n, "mode", "nearest") != "nearest") return false;
  auto x = L.int_source(n.inputs[0]);
  if (!x) return false;
  for (size_t i = 1; i < n.inputs.size(); ++i)
    if (n.inputs[i] != kNoValue && !L.constant(n.inputs[i])) return false;
  std::vector<OutChain> chains;
  for (ValueId o : n.outputs) {
    auto c = o == kNoValue ? std::nullopt : L.out_chain(o, false, false);
    if (!c || !same_quant(c->qp.quant(), x->q) || (c->qp.qtype == DType::kInt8) != x->is_signed) return false;
    chains.push_back(*c);
  }
  Step s = L.new_step(StepKind::kMove, n);
  s.inputs = {x->tensor};
  for (size_t i = 1; i < n.inputs.size(); ++i)
    s.inputs.push_back(n.inputs[i] == kNoValue ? -1 : L.add_tensor(n.inputs[i]));
  if (n.op == OpId::Pad) {
    // The fill value in the integer domain: Q(constant_value), Q(0) = zero point by default.
    const Tensor* c = n.inputs.size() > 2 ? L.constant(n.inputs[2]) : nullptr;
    const float fill = c ? static_cast<float>(c->to_double()[0]) : 0.f;
    const int32_t q = quantize_value(fill, x->q, x->is_signed);
    Tensor t = x->is_signed ? Tensor::scalar<int8_t>(static_cast<int8_t>(q)) : Tensor::scalar<uint8_t>(static_cast<uint8_t>(q));
    s.inputs.resize(3);
    s.inputs[2] = L.add_constant_tensor(n.name + "_quantized_fill", t);
  }
  return L.emit_pattern(ni, std::move(s), chains);
}

}  // namespace qmap::lowering
