// The binary family's lowering: DQ(a), DQ(b) -> Add [-> Relu|Clip] -> Q becomes kAddQ15 when
// its multipliers have the short form (add_q15_form: every Add whose input/output scale ratios
// are below 4) and every operand is 8-bit, else kAdd (which also takes int16 operands, the
// higher-precision form); DQ(a), DQ(b) -> Mul -> Q becomes kMul (8-bit); broadcasting by
// strides.
#include "core/fixed_point.h"
#include "kernels/ref/qelementwise.h"
#include "quant/lowerer.h"

namespace qmap::lowering {

Result<bool> lower_binary(Lowerer& L, size_t ni) {
  const Node& n = L.graph().nodes[ni];
  const bool add = n.op == OpId::Add;
  auto a = L.int_source(n.inputs[0], add);
  auto b = L.int_source(n.inputs[1], add);
  if (!a || !b) return false;
  auto chain = L.out_chain(n.outputs[0], add, false, add);
  if (!chain) return false;
  Step s = L.new_step(n.op == OpId::Add ? StepKind::kAdd : StepKind::kMul, n);
  auto& bp = s.as<BinaryParams>();
  const Dims& out = *L.graph().value(n.outputs[0]).dims;
  bp.geom.out = out;
  bp.geom.a_strides = kernels::ref::broadcast_strides(*L.graph().value(n.inputs[0]).dims, out);
  bp.geom.b_strides = kernels::ref::broadcast_strides(*L.graph().value(n.inputs[1]).dims, out);
  s.inputs = {a->tensor, b->tensor};
  const double sy = chain->qp.scales[0];
  if (n.op == OpId::Add) {
    bp.multipliers = {quantize_multiplier(a->q.scale / sy), quantize_multiplier(b->q.scale / sy)};
    const bool wide = a->wide || b->wide || chain->qp.qtype == DType::kInt16;
    if (AddQ15 f; !wide && add_q15_form(bp.multipliers[0], bp.multipliers[1], &f)) s.kind = StepKind::kAddQ15;
  } else {
    bp.multipliers = {quantize_multiplier(static_cast<double>(a->q.scale) * b->q.scale / sy)};
  }
  L.clamp_range(*chain, bp.lo, bp.hi);
  return L.emit_pattern(ni, std::move(s), {*chain});
}

}  // namespace qmap::lowering
