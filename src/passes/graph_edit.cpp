// Graph-editing primitives of the float passes; see graph_edit.h.
#include "passes/graph_edit.h"

#include <algorithm>

#include "ops/infer.h"
#include "ops/registry.h"

namespace qmap {

void log_rewrite(PassLog* log, std::string line) {
  if (log != nullptr) log->push_back(std::move(line));
}

int use_count(const Graph& g, ValueId v) {
  int n = 0;
  for (const Node& node : g.nodes)
    for (ValueId i : node.inputs) n += i == v ? 1 : 0;
  return n;
}

bool is_graph_output(const Graph& g, ValueId v) {
  return std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
}

bool is_graph_input(const Graph& g, ValueId v) {
  return std::find(g.inputs.begin(), g.inputs.end(), v) != g.inputs.end();
}

bool has_single_use(const Graph& g, ValueId v) {
  return v != kNoValue && !is_graph_output(g, v) && use_count(g, v) == 1;
}

std::optional<size_t> single_consumer(const Graph& g, ValueId v) {
  if (!has_single_use(g, v)) return std::nullopt;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (ValueId in : g.nodes[i].inputs)
      if (in == v) return i;
  return std::nullopt;
}

std::optional<size_t> producer_of(const Graph& g, ValueId v) {
  if (v == kNoValue) return std::nullopt;
  const int32_t p = g.value(v).producer;
  if (p < 0) return std::nullopt;
  return static_cast<size_t>(p);
}

const Tensor* constant_of(const Graph& g, ValueId v) {
  if (v == kNoValue || !g.value(v).constant) return nullptr;
  return &*g.value(v).constant;
}

const Tensor* float_constant_of(const Graph& g, ValueId v) {
  const Tensor* t = constant_of(g, v);
  return t != nullptr && t->dtype() == DType::kFloat32 ? t : nullptr;
}

Tensor float_tensor(Dims dims, const std::vector<double>& v) {
  Tensor t(DType::kFloat32, std::move(dims));
  auto d = t.data<float>();
  QMAP_CHECK(d.size() == v.size(), "{} values for {} elements", v.size(), d.size());
  for (size_t i = 0; i < v.size(); ++i) d[i] = static_cast<float>(v[i]);
  return t;
}

ValueId add_initializer(Graph& g, const std::string& base, Tensor t) {
  return g.add_constant(g.unique_value_name(base), std::move(t));
}

void replace_constant_input(Graph& g, size_t node, size_t input, Tensor t, const std::string& suffix) {
  const ValueId id = add_initializer(g, g.nodes[node].name + "_" + suffix, std::move(t));
  Node& n = g.nodes[node];
  if (n.inputs.size() <= input) n.inputs.resize(input + 1, kNoValue);
  n.inputs[input] = id;
}

Node make_node(const std::string& op, std::string name, std::vector<ValueId> inputs,
               std::vector<ValueId> outputs, std::map<std::string, AttrValue> attrs) {
  const std::optional<OpId> id = op_by_name(op);
  QMAP_CHECK(id.has_value(), "unknown op {}", op);
  Node n;
  n.name = std::move(name);
  n.op = *id;
  n.op_type = op;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  n.attrs = std::move(attrs);
  return n;
}

void absorb_consumer(Graph& g, size_t producer, size_t consumer) {
  QMAP_CHECK(producer < consumer, "producer {} must precede consumer {}", producer, consumer);
  const Node& c = g.nodes[consumer];
  bool replaced = false;
  for (ValueId& o : g.nodes[producer].outputs)
    if (!replaced && o != kNoValue && std::find(c.inputs.begin(), c.inputs.end(), o) != c.inputs.end()) {
      o = c.outputs[0];
      replaced = true;
    }
  QMAP_CHECK(replaced, "'{}' reads no output of '{}'", c.name, g.nodes[producer].name);
  erase_node(g, consumer);
}

void redirect_uses(Graph& g, ValueId from, ValueId to) {
  for (Node& n : g.nodes)
    for (ValueId& i : n.inputs)
      if (i == from) i = to;
}

void erase_node(Graph& g, size_t index) {
  g.nodes.erase(g.nodes.begin() + static_cast<std::ptrdiff_t>(index));
  g.rebuild_producers();
}

void insert_node(Graph& g, size_t index, Node node) {
  g.nodes.insert(g.nodes.begin() + static_cast<std::ptrdiff_t>(index), std::move(node));
  g.rebuild_producers();
}

void prune_graph(Graph& g) {
  // Dead nodes, from the back so a dead chain goes in one sweep.
  std::vector<int> uses(g.values.size(), 0);
  for (const Node& n : g.nodes)
    for (ValueId i : n.inputs)
      if (i != kNoValue) ++uses[static_cast<size_t>(i)];
  for (ValueId o : g.outputs) ++uses[static_cast<size_t>(o)];
  std::vector<bool> keep_node(g.nodes.size(), true);
  for (size_t k = g.nodes.size(); k-- > 0;) {
    bool live = false;
    for (ValueId o : g.nodes[k].outputs) live = live || (o != kNoValue && uses[static_cast<size_t>(o)] > 0);
    if (live) continue;
    keep_node[k] = false;
    for (ValueId i : g.nodes[k].inputs)
      if (i != kNoValue) --uses[static_cast<size_t>(i)];
  }
  std::vector<Node> nodes;
  for (size_t k = 0; k < g.nodes.size(); ++k)
    if (keep_node[k]) nodes.push_back(std::move(g.nodes[k]));
  g.nodes = std::move(nodes);

  // Unreferenced values; the rest keep their order, so dumps stay stable.
  std::vector<bool> referenced(g.values.size(), false);
  for (ValueId i : g.inputs) referenced[static_cast<size_t>(i)] = true;
  for (ValueId o : g.outputs) referenced[static_cast<size_t>(o)] = true;
  for (const Node& n : g.nodes) {
    for (ValueId i : n.inputs)
      if (i != kNoValue) referenced[static_cast<size_t>(i)] = true;
    for (ValueId o : n.outputs)
      if (o != kNoValue) referenced[static_cast<size_t>(o)] = true;
  }
  std::vector<ValueId> remap(g.values.size(), kNoValue);
  std::vector<Value> values;
  for (size_t v = 0; v < g.values.size(); ++v) {
    if (!referenced[v]) continue;
    remap[v] = static_cast<ValueId>(values.size());
    values.push_back(std::move(g.values[v]));
  }
  g.values = std::move(values);
  auto fix = [&](ValueId& id) {
    if (id != kNoValue) id = remap[static_cast<size_t>(id)];
  };
  for (ValueId& i : g.inputs) fix(i);
  for (ValueId& o : g.outputs) fix(o);
  for (Node& n : g.nodes) {
    for (ValueId& i : n.inputs) fix(i);
    for (ValueId& o : n.outputs) fix(o);
  }
  g.rebuild_producers();
}

Status finish_pass(Graph& g) {
  prune_graph(g);
  return infer_shapes(g);
}

std::string node_label(const Node& n) { return fmt::format("{} '{}'", n.op_type, n.name); }

}  // namespace qmap
