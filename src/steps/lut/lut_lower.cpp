// The table family's lowering: DQ -> f -> Q becomes kLut, the 256-entry table
// Q(f(DQ(code))) computed with the op's own float eval (any op whose quant_rule says kTable).
#include <optional>
#include <vector>

#include "kernels/ref/q8.h"
#include "kernels/ref/qelementwise.h"
#include "ops/common/int8_rules.h"
#include "quant/lowerer.h"

namespace qmap::lowering {

Result<std::optional<std::vector<uint8_t>>> tabulate(const Lowerer& L, const Node& n, const IntSrc& x,
                                                     const OutChain& chain, int64_t channel) {
  // f over every 8-bit input, with the op's own float eval: table[k] = Q(f(DQ(q8_min + k))).
  Tensor in(DType::kFloat32, {256});
  const int32_t base = kernels::ref::q8_min(x.is_signed);
  for (int32_t k = 0; k < 256; ++k)
    in.data<float>()[static_cast<size_t>(k)] = static_cast<float>(base + k - x.q.zero_point) * x.q.scale;
  // Each parameter (Clip's bounds, PRelu's slope) as one float32 scalar broadcast over the 256
  // inputs: its value for `channel`, or its one value.
  std::vector<Tensor> params;
  params.reserve(n.inputs.size());
  std::vector<const Tensor*> ins = {&in};
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    const Tensor* c = L.constant(n.inputs[i]);
    if (n.inputs[i] != kNoValue && c == nullptr) return std::optional<std::vector<uint8_t>>();
    if (c && c->dtype() == DType::kFloat32) {
      const bool one = ops::uniform(*c);
      if (!one && (channel < 0 || c->numel() <= channel)) return std::optional<std::vector<uint8_t>>();
      c = &params.emplace_back(Tensor::scalar<float>(c->data<float>()[static_cast<size_t>(one ? 0 : channel)]));
    } else if (c && c->numel() != 1) {
      return std::optional<std::vector<uint8_t>>();
    }
    ins.push_back(c);
  }
  auto outs = eval_node(n, ins);
  if (!outs.ok()) return outs.status().with_context("lower: ");
  std::vector<uint8_t> table(256);
  kernels::ref::quantize((*outs)[0].template data<float>(), chain.qp.scales[0], chain.qp.zps[0],
                         {table.data(), chain.qp.qtype == DType::kInt8});
  return std::optional<std::vector<uint8_t>>(std::move(table));
}

Result<bool> lower_lut(Lowerer& L, size_t ni) {
  const Node& n = L.graph().nodes[ni];
  auto x = L.int_source(n.inputs[0]);
  if (!x) return false;
  auto chain = L.out_chain(n.outputs[0], false, false);
  if (!chain) return false;
  QMAP_ASSIGN_OR_RETURN(auto table, tabulate(L, n, *x, *chain, -1));
  if (!table) return false;  // a parameter computed at run time, or one that varies
  Step s = L.new_step(StepKind::kLut, n);
  s.inputs = {x->tensor};
  s.as<LutParams>().table = std::move(*table);
  return L.emit_pattern(ni, std::move(s), {*chain});
}

}  // namespace qmap::lowering
