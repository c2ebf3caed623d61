// canonicalize_sub_div: subtraction and division by a constant as Add / Mul (passes.h).
#include "passes/passes.h"

namespace qmap {

Status canonicalize_sub_div(Graph& g, PassLog* log) {
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if ((n.op != OpId::Sub && n.op != OpId::Div) || n.inputs.size() != 2) continue;
    const Tensor* c = float_constant_of(g, n.inputs[1]);
    if (c == nullptr) continue;
    const bool sub = n.op == OpId::Sub;
    Tensor t = c->clone();
    bool ok = true;
    for (float& v : t.data<float>()) {
      ok = ok && (sub || v != 0.f);
      // float32 reciprocal: x * (1/c) differs from x / c by at most one rounding.
      v = sub ? -v : 1.f / v;
    }
    if (!ok) continue;
    const std::string from = node_label(n);
    replace_constant_input(g, i, 1, std::move(t), sub ? "neg" : "recip");
    Node& m = g.nodes[i];
    m.op = sub ? OpId::Add : OpId::Mul;
    m.op_type = sub ? "Add" : "Mul";
    log_rewrite(log, fmt::format("canonicalize_sub_div: {} became {} by the {} constant", from,
                                 m.op_type, sub ? "negated" : "reciprocal"));
  }
  return finish_pass(g);
}

}  // namespace qmap
