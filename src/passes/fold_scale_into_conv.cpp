// fold_scale_into_conv: per-channel Mul/Add/Sub/Div after a Conv folded into its weights
// (passes.h).
#include "passes/channel_affine.h"
#include "passes/passes.h"

namespace qmap {

namespace {

// The binary node as y = s[c] * x + t[c] on its non-constant operand x (input 1 - k, where
// input k is the constant c), or nullopt when it is not affine in x.
std::optional<ChannelAffine> binary_affine(OpId op, size_t k, const std::vector<double>& c) {
  ChannelAffine a{std::vector<double>(c.size(), 1.0), std::vector<double>(c.size(), 0.0)};
  for (size_t i = 0; i < c.size(); ++i) {
    switch (op) {
      case OpId::Mul: a.s[i] = c[i]; break;
      case OpId::Add: a.t[i] = c[i]; break;
      case OpId::Sub:  // x - c, or c - x
        a.s[i] = k == 1 ? 1.0 : -1.0;
        a.t[i] = k == 1 ? -c[i] : c[i];
        break;
      case OpId::Div:  // x / c only; c / x is not affine
        if (k != 1 || c[i] == 0.0) return std::nullopt;
        a.s[i] = 1.0 / c[i];
        break;
      default: return std::nullopt;
    }
  }
  return a;
}

}  // namespace

Status fold_scale_into_conv(Graph& g, PassLog* log) {
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op != OpId::Mul && n.op != OpId::Add && n.op != OpId::Sub && n.op != OpId::Div) continue;
    if (n.inputs.size() != 2) continue;
    const size_t k = float_constant_of(g, n.inputs[1]) != nullptr ? 1 : 0;
    const Tensor* c = float_constant_of(g, n.inputs[k]);
    const ValueId x = n.inputs[1 - k];
    const std::optional<size_t> p = producer_of(g, x);
    if (c == nullptr || !p || !has_single_use(g, x)) continue;
    const std::optional<int64_t> channels = affine_channels(g, g.nodes[*p]);
    if (!channels) continue;
    const std::optional<std::vector<double>> cv = per_channel_values(*c, *g.value(x).dims);
    if (!cv) continue;
    const std::optional<ChannelAffine> a = binary_affine(n.op, k, *cv);
    if (!a) continue;
    log_rewrite(log, fmt::format("fold_scale_into_conv: {} folded into {}", node_label(n),
                                 node_label(g.nodes[*p])));
    fold_affine_into(g, *p, *a);
    absorb_consumer(g, *p, i);
    --i;  // node i is gone (p < i, so i >= 1); the loop's ++i visits its successor
  }
  return finish_pass(g);
}

}  // namespace qmap
