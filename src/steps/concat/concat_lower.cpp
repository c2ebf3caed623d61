// The concat family's lowering: DQ... -> Concat -> Q becomes kConcat, copying each input
// whose scale and zero point are the output's and requantizing the others.
#include "core/fixed_point.h"
#include "quant/lowerer.h"

namespace qmap::lowering {

Result<bool> lower_concat(Lowerer& L, size_t ni) {
  const Node& n = L.graph().nodes[ni];
  std::vector<IntSrc> xs;
  for (ValueId v : n.inputs) {
    auto x = L.int_source(v);
    if (!x) return false;
    xs.push_back(*x);
  }
  auto chain = L.out_chain(n.outputs[0], false, false);
  if (!chain) return false;
  const Dims& out = *L.graph().value(n.outputs[0]).dims;
  int64_t axis = attr_int(n, "axis", 0);
  if (axis < 0) axis += static_cast<int64_t>(out.size());
  Step s = L.new_step(StepKind::kConcat, n);
  auto& cp = s.as<ConcatParams>();
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < out.size(); ++d) inner *= out[d];
  cp.outer = 1;
  for (size_t d = 0; d < static_cast<size_t>(axis); ++d) cp.outer *= out[d];
  const TensorQuant qy = chain->qp.quant();
  const bool sy = chain->qp.qtype == DType::kInt8;
  for (size_t i = 0; i < xs.size(); ++i) {
    const IntSrc& x = xs[i];
    s.inputs.push_back(x.tensor);
    cp.blocks.push_back((*L.graph().value(n.inputs[i]).dims)[static_cast<size_t>(axis)] * inner);
    const bool copy = same_quant(x.q, qy) && x.is_signed == sy;
    cp.requant.push_back(copy ? 0 : 1);
    cp.multipliers.push_back(copy ? QMultiplier{} : quantize_multiplier(static_cast<double>(x.q.scale) / qy.scale));
  }
  return L.emit_pattern(ni, std::move(s), {*chain});
}

}  // namespace qmap::lowering
