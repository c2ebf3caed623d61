// output_nodes and remove_node_type; see model_boundary.h.
#include "passes/model_boundary.h"

#include <algorithm>
#include <set>

#include "passes/graph_edit.h"

namespace qmap {

namespace {

// hb_mapper / hb_model_modifier type names and the IR op each means.
struct RemovableType {
  const char* name;
  OpId op;
  bool at_input;
  bool at_output;
};
constexpr RemovableType kRemovable[] = {
    {"Transpose", OpId::Transpose, true, true},
    {"Quantize", OpId::QuantizeLinear, true, false},
    {"QuantizeLinear", OpId::QuantizeLinear, true, false},
    {"Cast", OpId::Cast, true, true},
    {"Reshape", OpId::Reshape, true, true},
    {"Dequantize", OpId::DequantizeLinear, false, true},
    {"DequantizeLinear", OpId::DequantizeLinear, false, true},
    {"Softmax", OpId::Softmax, false, true},
};

// Gives value `keep` the name of value `from` (which is about to be dropped).
void take_name(Graph& g, ValueId keep, ValueId from) {
  const std::string name = g.value(from).name;
  g.value(from).name = g.unique_value_name(name + "_removed");
  g.value(keep).name = name;
}

bool others_constant(const Graph& g, const Node& n) {
  for (size_t i = 1; i < n.inputs.size(); ++i)
    if (n.inputs[i] != kNoValue && constant_of(g, n.inputs[i]) == nullptr) return false;
  return true;
}

// Removes node k when it sits at the boundary, reading a graph input (`at_input`) or writing
// a graph output, on the only path through there; true when removed. The value on the model
// side (`inner`: the node's output at an input, its data input at an output) replaces the
// boundary value (`outer`) in the graph's input/output list and takes its name.
bool remove_at_boundary(Graph& g, size_t k, bool at_input) {
  const Node& n = g.nodes[k];
  if (n.inputs.empty() || n.inputs[0] == kNoValue || !others_constant(g, n)) return false;
  const ValueId x = n.inputs[0], y = n.outputs[0];
  const ValueId outer = at_input ? x : y, inner = at_input ? y : x;
  std::vector<ValueId>& list = at_input ? g.inputs : g.outputs;
  if (std::find(list.begin(), list.end(), outer) == list.end() || use_count(g, x) != 1 || is_graph_output(g, x) ||
      is_graph_input(g, inner) || is_graph_output(g, inner) || constant_of(g, inner) != nullptr)
    return false;
  std::replace(list.begin(), list.end(), outer, inner);
  take_name(g, inner, outer);
  erase_node(g, k);
  return true;
}

}  // namespace

Status set_output_nodes(Graph& g, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    std::vector<ValueId> ids;
    for (const Node& n : g.nodes)
      if (n.name == name)
        for (ValueId o : n.outputs)
          if (o != kNoValue) ids.push_back(o);
    if (ids.empty()) {
      const std::optional<ValueId> v = g.find_value(name);
      if (!v) return error("output_nodes: no node or value named '{}'", name);
      if (g.value(*v).is_initializer)
        return error("output_nodes: '{}' is a constant (initializer): an output must be computed", name);
      ids.push_back(*v);
    }
    for (ValueId id : ids)
      if (!is_graph_output(g, id)) g.outputs.push_back(id);
  }
  return ok_status();
}

Status remove_node_types(Graph& g, const std::vector<std::string>& op_types,
                         std::vector<std::string>* removed) {
  std::set<OpId> at_input, at_output;
  for (const std::string& t : op_types) {
    const auto* r = std::find_if(std::begin(kRemovable), std::end(kRemovable),
                                 [&](const RemovableType& x) { return t == x.name; });
    if (r == std::end(kRemovable))
      return error("remove_node_type: '{}' cannot be removed: the allowed types are Transpose, Quantize, "
                   "Cast, Reshape (at inputs) and Transpose, Dequantize, Cast, Reshape, Softmax (at outputs)", t);
    if (r->at_input) at_input.insert(r->op);
    if (r->at_output) at_output.insert(r->op);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t k = 0; k < g.nodes.size() && !changed; ++k) {
      const std::string name = g.nodes[k].name;
      const OpId op = g.nodes[k].op;
      changed = (at_input.count(op) && remove_at_boundary(g, k, true)) ||
                (at_output.count(op) && remove_at_boundary(g, k, false));
      if (changed && removed != nullptr) removed->push_back(name);
    }
  }
  return finish_pass(g);
}

}  // namespace qmap
