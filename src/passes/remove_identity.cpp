// remove_identity: bypasses Identity and inference-mode Dropout (passes.h).
#include "passes/passes.h"

namespace qmap {

namespace {

// Dropout acts as Identity unless training_mode is (or may be) true, or its mask is read.
bool is_identity_like(const Graph& g, const Node& n) {
  if (n.op == OpId::Identity) return true;
  if (n.op != OpId::Dropout) return false;
  if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
    const Tensor* training = constant_of(g, n.inputs[2]);
    if (training == nullptr || training->to_int64().at(0) != 0) return false;
  }
  return n.outputs.size() < 2 || n.outputs[1] == kNoValue ||
         (use_count(g, n.outputs[1]) == 0 && !is_graph_output(g, n.outputs[1]));
}

}  // namespace

Status remove_identity(Graph& g, PassLog* log) {
  for (size_t i = 0; i < g.nodes.size();) {
    const Node& n = g.nodes[i];
    if (!is_identity_like(g, n)) {
      ++i;
      continue;
    }
    const ValueId x = n.inputs[0], y = n.outputs[0];
    const std::string line = fmt::format("remove_identity: {} removed", node_label(n));
    if (!is_graph_output(g, y)) {
      redirect_uses(g, y, x);
      erase_node(g, i);
    } else if (const auto p = producer_of(g, x); p && has_single_use(g, x)) {
      // y names a graph output: x's producer writes y directly so the name survives.
      absorb_consumer(g, *p, i);
    } else {
      ++i;  // x is a graph input or output, or read elsewhere: renaming would change a name
      continue;
    }
    log_rewrite(log, line);
  }
  return finish_pass(g);
}

}  // namespace qmap
