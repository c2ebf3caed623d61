// reduce_transpose_rank: a Transpose above rank 4 whose permutation keeps runs of adjacent
// axes together becomes Reshape -> Transpose of the merged axes -> Reshape, and a Reshape of a
// Reshape reads the first one's input (passes.h).
#include <algorithm>

#include "passes/graph_edit.h"
#include "passes/passes.h"

namespace qmap {

namespace {

// Runs of input axes that stay adjacent and in order in `perm`, in output order: run k holds
// input axes [start[k], start[k] + len[k]).
struct AxisRuns {
  std::vector<int64_t> start, len;
};

AxisRuns axis_runs(const std::vector<int64_t>& perm) {
  AxisRuns r;
  for (size_t i = 0; i < perm.size(); ++i) {
    if (i > 0 && perm[i] == perm[i - 1] + 1) {
      ++r.len.back();
      continue;
    }
    r.start.push_back(perm[i]);
    r.len.push_back(1);
  }
  return r;
}

ValueId shape_constant(Graph& g, const std::string& base, const Dims& dims) {
  return add_initializer(g, base, Tensor::from_vector<int64_t>({static_cast<int64_t>(dims.size())}, dims));
}

// The Transpose at `i` as Reshape -> Transpose -> Reshape over the merged axes; false when it
// does not apply (rank <= 4, unknown dims, or no axes to merge down to rank 4).
bool reduce_one(Graph& g, size_t i, PassLog* log) {
  const Node& t = g.nodes[i];
  if (t.op != OpId::Transpose || t.inputs.empty()) return false;
  const std::optional<Dims>& in = g.value(t.inputs[0]).dims;
  const std::optional<Dims>& out = g.value(t.outputs[0]).dims;
  if (!in || !out || in->size() <= 4) return false;
  for (int64_t d : *in)
    if (d < 0) return false;
  const int64_t rank = static_cast<int64_t>(in->size());
  std::vector<int64_t> perm = attr_ints(t, "perm");
  if (perm.empty())
    for (int64_t a = rank - 1; a >= 0; --a) perm.push_back(a);
  if (static_cast<int64_t>(perm.size()) != rank) return false;
  const AxisRuns runs = axis_runs(perm);
  const size_t k = runs.start.size();
  if (k > 4 || static_cast<int64_t>(k) == rank) return false;
  // The runs in input order give the merged input dims; the new perm lists, per run in output
  // order, its position among them.
  std::vector<size_t> by_start(k);
  for (size_t a = 0; a < k; ++a) by_start[a] = a;
  std::sort(by_start.begin(), by_start.end(), [&](size_t a, size_t b) { return runs.start[a] < runs.start[b]; });
  Dims merged(k, 1);
  std::vector<int64_t> new_perm(k);
  for (size_t pos = 0; pos < k; ++pos) {
    const size_t run = by_start[pos];
    for (int64_t a = runs.start[run]; a < runs.start[run] + runs.len[run]; ++a) merged[pos] *= (*in)[static_cast<size_t>(a)];
    new_perm[run] = static_cast<int64_t>(pos);
  }
  const std::string name = t.name;
  const std::string label = node_label(t);
  const ValueId x = t.inputs[0];
  const ValueId y = t.outputs[0];
  const Dims out_dims = *out;
  const ValueId merged_in = g.add_value(g.unique_value_name(g.value(x).name + "_merged"), g.value(x).dtype);
  const ValueId merged_out = g.add_value(g.unique_value_name(g.value(y).name + "_merged"), g.value(y).dtype);
  const ValueId in_shape = shape_constant(g, name + "_merged_shape", merged);
  const ValueId out_shape = shape_constant(g, name + "_shape", out_dims);
  g.nodes[i] = make_node("Reshape", name + "_merge", {x, in_shape}, {merged_in});
  insert_node(g, i + 1, make_node("Transpose", name, {merged_in}, {merged_out}, {{"perm", new_perm}}));
  insert_node(g, i + 2, make_node("Reshape", name + "_split", {merged_out, out_shape}, {y}));
  log_rewrite(log, fmt::format("reduce_transpose_rank: {} of rank {} became a rank-{} Transpose between Reshapes "
                               "(perm [{}])",
                               label, rank, k, fmt::join(new_perm, ",")));
  return true;
}

// A Reshape reading a rank-5+ output of another Reshape that nothing else reads (the
// channel-shuffle chains the Transpose rewrite leaves), with a target shape free of 0 (0
// copies a dim of the input, which would change): it reads the first one's input instead, and
// the first one is left for prune_graph.
bool fold_reshape_pair(Graph& g, size_t i, PassLog* log) {
  const Node& outer = g.nodes[i];
  if (outer.op != OpId::Reshape || outer.inputs.size() < 2) return false;
  const std::optional<size_t> p = producer_of(g, outer.inputs[0]);
  if (!p || g.nodes[*p].op != OpId::Reshape || !has_single_use(g, outer.inputs[0])) return false;
  const std::optional<Dims>& mid = g.value(outer.inputs[0]).dims;
  if (!mid || mid->size() <= 4) return false;
  const Tensor* shape = constant_of(g, outer.inputs[1]);
  if (shape == nullptr || attr_int(outer, "allowzero", 0) != 0) return false;
  for (int64_t d : shape->to_int64())
    if (d == 0) return false;
  const ValueId source = g.nodes[*p].inputs[0];
  log_rewrite(log, fmt::format("reduce_transpose_rank: {} reads the input of {} directly", node_label(outer),
                               node_label(g.nodes[*p])));
  g.nodes[i].inputs[0] = source;
  return true;
}

}  // namespace

Status reduce_transpose_rank(Graph& g, PassLog* log) {
  bool changed = false;
  for (size_t i = 0; i < g.nodes.size(); ++i) changed = reduce_one(g, i, log) || changed;
  for (size_t i = 0; i < g.nodes.size(); ++i) changed = fold_reshape_pair(g, i, log) || changed;
  if (!changed) return ok_status();
  return finish_pass(g);
}

}  // namespace qmap
