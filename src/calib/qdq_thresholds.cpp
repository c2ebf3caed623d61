// take_thresholds_from_qdq: reads activation thresholds out of QuantizeLinear /
// DequantizeLinear pairs (ONNX QDQ format, opset 13+) and removes the pairs; see the header.
#include "calib/qdq_thresholds.h"

#include <algorithm>
#include <cmath>

#include "engine/float_engine.h"
#include "ops/verify.h"

namespace qmap {

namespace {

constexpr const char* kStage = "load calibration";

// Evaluates node n of g, whose inputs are all constants, with the float engine on a
// one-node graph (the engine is the one place that runs an op's infer + eval).
Result<Tensor> evaluate_constant_node(const Graph& g, const Node& n) {
  Graph mini;
  mini.name = n.name;
  mini.onnx_opset = g.onnx_opset;
  Node copy = n;
  for (ValueId& id : copy.inputs)
    if (id != kNoValue) id = mini.add_constant(g.value(id).name, *g.value(id).constant);
  for (ValueId& id : copy.outputs)
    if (id != kNoValue) id = mini.add_value(g.value(id).name, g.value(id).dtype, g.value(id).dims);
  mini.outputs = {copy.outputs.at(0)};
  mini.nodes.push_back(std::move(copy));
  mini.rebuild_producers();
  QMAP_ASSIGN_OR_RETURN(FloatEngine engine, FloatEngine::create(mini));
  QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> out, engine.run({}));
  return out.at(0);
}

// Input i of n as a one-element constant, or an error naming the node. Returns an undefined
// Tensor for an omitted optional input.
Result<Tensor> scalar_param(const Graph& g, const Node& n, size_t i, const char* what) {
  if (i >= n.inputs.size() || n.inputs[i] == kNoValue) return Tensor();
  const Value& v = g.value(n.inputs[i]);
  if (!v.constant)
    return error("{}: {} '{}': {} '{}' is computed at run time: only constant quantization parameters can be read",
                 kStage, n.op_type, n.name, what, v.name);
  if (v.constant->numel() != 1)
    return error("{}: {} '{}': {} '{}' has {} elements: activations must be quantized per tensor", kStage, n.op_type,
                 n.name, what, v.name, v.constant->numel());
  return *v.constant;
}

// Removes the nodes marked in `remove` and every value no remaining node, graph input or
// graph output refers to, renumbering the rest.
void compact(Graph& g, const std::vector<bool>& remove) {
  std::vector<Node> nodes;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!remove[i]) nodes.push_back(std::move(g.nodes[i]));
  std::vector<bool> used(g.values.size(), false);
  auto mark = [&](ValueId id) {
    if (id != kNoValue) used[static_cast<size_t>(id)] = true;
  };
  for (const Node& n : nodes) {
    std::for_each(n.inputs.begin(), n.inputs.end(), mark);
    std::for_each(n.outputs.begin(), n.outputs.end(), mark);
  }
  std::for_each(g.inputs.begin(), g.inputs.end(), mark);
  std::for_each(g.outputs.begin(), g.outputs.end(), mark);
  std::vector<ValueId> remap(g.values.size(), kNoValue);
  std::vector<Value> values;
  for (size_t i = 0; i < g.values.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = static_cast<ValueId>(values.size());
    values.push_back(std::move(g.values[i]));
  }
  auto apply = [&](ValueId& id) {
    if (id != kNoValue) id = remap[static_cast<size_t>(id)];
  };
  for (Node& n : nodes) {
    std::for_each(n.inputs.begin(), n.inputs.end(), apply);
    std::for_each(n.outputs.begin(), n.outputs.end(), apply);
  }
  std::for_each(g.inputs.begin(), g.inputs.end(), apply);
  std::for_each(g.outputs.begin(), g.outputs.end(), apply);
  g.nodes = std::move(nodes);
  g.values = std::move(values);
  g.rebuild_producers();
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  if (!a.defined()) return true;
  return a.dtype() == b.dtype() && a.numel() == b.numel() && a.to_double() == b.to_double();
}

}  // namespace

Result<Thresholds> take_thresholds_from_qdq(Graph& g) {
  const size_t num_nodes = g.nodes.size();
  std::vector<std::vector<size_t>> consumers(g.values.size());
  for (size_t ni = 0; ni < num_nodes; ++ni)
    for (ValueId id : g.nodes[ni].inputs)
      if (id != kNoValue) consumers[static_cast<size_t>(id)].push_back(ni);
  std::vector<bool> is_graph_output(g.values.size(), false), is_graph_input(g.values.size(), false);
  for (ValueId id : g.outputs) is_graph_output[static_cast<size_t>(id)] = true;
  for (ValueId id : g.inputs) is_graph_input[static_cast<size_t>(id)] = true;

  std::vector<bool> remove(num_nodes, false), paired_dq(num_nodes, false);
  // replace[v]: the value that now stands for v (a removed DequantizeLinear output stands
  // for the float value its pair quantized).
  std::vector<ValueId> replace(g.values.size());
  for (size_t i = 0; i < replace.size(); ++i) replace[i] = static_cast<ValueId>(i);
  struct Found {
    float threshold;
    std::string node;
  };
  std::map<ValueId, Found> found;

  for (size_t ni = 0; ni < num_nodes; ++ni) {
    const Node& n = g.nodes[ni];
    if (n.op != OpId::QuantizeLinear && n.op != OpId::DequantizeLinear) continue;
    const bool all_const = std::all_of(n.inputs.begin(), n.inputs.end(),
                                       [&](ValueId id) { return id == kNoValue || g.value(id).constant; });
    if (all_const) {  // a weight or bias (or a fake-quantized one): fold to a float constant
      Value& out = g.value(n.outputs.at(0));
      if (!out.constant) {
        Result<Tensor> t = evaluate_constant_node(g, n);
        if (!t.ok()) return t.status().with_context(fmt::format("{}: ", kStage));
        out.dtype = t->dtype();
        out.dims = t->dims();
        out.constant = std::move(*t);
      }
      out.is_initializer = true;
      remove[ni] = true;
      continue;
    }
    if (n.op == OpId::DequantizeLinear) {
      if (!paired_dq[ni])
        return error("{}: DequantizeLinear '{}': input '{}' is neither a constant nor the output of a "
                     "QuantizeLinear: cannot tell which float value it stands for",
                     kStage, n.name, g.value(n.inputs.at(0)).name);
      continue;
    }
    // QuantizeLinear of an activation.
    QMAP_ASSIGN_OR_RETURN(Tensor scale, scalar_param(g, n, 1, "scale"));
    QMAP_ASSIGN_OR_RETURN(Tensor zp, scalar_param(g, n, 2, "zero point"));
    const ValueId vq = n.outputs.at(0);
    const DType qtype = g.value(vq).dtype;
    int64_t qmin = 0, qmax = 0;
    if (qtype == DType::kUInt8) {
      qmax = 255;
    } else if (qtype == DType::kInt8) {
      qmin = -127;  // the symmetric range: -128 is not used by symmetric quantizers
      qmax = 127;
    } else if (qtype == DType::kInt16) {
      qmin = -32767;  // likewise
      qmax = 32767;
    } else {
      return error("{}: QuantizeLinear '{}': output type {}: only uint8, int8 and int16 are supported", kStage, n.name,
                   dtype_name(qtype));
    }
    const int64_t z = zp.defined() ? zp.to_int64()[0] : 0;
    const double s = scale.to_double()[0];
    const double t = s * static_cast<double>(std::max(qmax - z, z - qmin));
    if (!(s > 0) || !std::isfinite(s) || !(t > 0))
      return error("{}: QuantizeLinear '{}': scale {} with zero point {}: the scale must be finite and > 0 and "
                   "the zero point inside the {} range",
                   kStage, n.name, s, z, dtype_name(qtype));
    if (is_graph_output[static_cast<size_t>(vq)])
      return error("{}: QuantizeLinear '{}': its integer output '{}' is a graph output: only Q/DQ pairs inside a "
                   "float graph can be removed",
                   kStage, n.name, g.value(vq).name);
    const ValueId v = replace[static_cast<size_t>(n.inputs.at(0))];
    for (size_t di : consumers[static_cast<size_t>(vq)]) {
      const Node& d = g.nodes[di];
      if (d.op != OpId::DequantizeLinear || d.inputs.at(0) != vq)
        return error("{}: QuantizeLinear '{}': its output '{}' is read by {} '{}': only DequantizeLinear may "
                     "read a quantized activation",
                     kStage, n.name, g.value(vq).name, d.op_type, d.name);
      QMAP_ASSIGN_OR_RETURN(Tensor ds, scalar_param(g, d, 1, "scale"));
      QMAP_ASSIGN_OR_RETURN(Tensor dz, scalar_param(g, d, 2, "zero point"));
      if (!same_tensor(ds, scale) || !same_tensor(dz, zp))
        return error("{}: DequantizeLinear '{}': scale/zero point differ from those of its QuantizeLinear '{}': "
                     "a pair must use the same parameters",
                     kStage, d.name, n.name);
      paired_dq[di] = true;
      remove[di] = true;
      replace[static_cast<size_t>(d.outputs.at(0))] = v;
    }
    remove[ni] = true;
    const float tf = static_cast<float>(t);
    auto [it, inserted] = found.emplace(v, Found{tf, n.name});
    if (!inserted && it->second.threshold != tf)
      return error("{}: QuantizeLinear '{}': value '{}' is already quantized by '{}' with threshold {}, here {}: "
                   "one value has one threshold",
                   kStage, n.name, g.value(v).name, it->second.node, it->second.threshold, tf);
  }

  for (size_t ni = 0; ni < num_nodes; ++ni)
    if (!remove[ni])
      for (ValueId& id : g.nodes[ni].inputs)
        if (id != kNoValue) id = replace[static_cast<size_t>(id)];
  // A graph output that was a DequantizeLinear output: the float value takes over its name.
  for (ValueId& out : g.outputs) {
    const ValueId v = replace[static_cast<size_t>(out)];
    if (v == out) continue;
    if (is_graph_input[static_cast<size_t>(v)] || is_graph_output[static_cast<size_t>(v)] ||
        std::count(g.outputs.begin(), g.outputs.end(), v) != 0)
      return error("{}: graph output '{}' is a dequantized copy of '{}', which is itself a graph input or output: "
                   "cannot keep both names",
                   kStage, g.value(out).name, g.value(v).name);
    const std::string name = g.value(out).name;
    g.value(out).name = g.unique_value_name(name + "_qdq");
    g.value(v).name = name;
    out = v;
  }

  Thresholds thresholds;
  for (const auto& [v, f] : found) thresholds[g.value(v).name] = f.threshold;
  compact(g, remove);
  QMAP_RETURN_IF_ERROR(verify_graph(g).with_context(fmt::format("{}: ", kStage)));
  return thresholds;
}

}  // namespace qmap
