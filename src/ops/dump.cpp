#include "ops/dump.h"

#include "ops/registry.h"

namespace qmap {

namespace {
std::string typed(const Value& v) {
  return fmt::format("%{}: {}[{}]", v.name, dtype_name(v.dtype), v.dims ? dims_str(*v.dims) : std::string("?"));
}
}  // namespace

std::string dump_graph(const Graph& g) {
  std::string s = fmt::format("graph '{}' opset {}\n", g.name, g.onnx_opset);
  for (ValueId id : g.inputs) s += "input  " + typed(g.value(id)) + "\n";
  for (const Value& v : g.values)
    if (v.is_initializer) s += "const  " + typed(v) + "\n";
  for (const Node& n : g.nodes) {
    std::vector<std::string> outs, ins;
    for (ValueId o : n.outputs) outs.push_back(o == kNoValue ? "_" : typed(g.value(o)));
    for (ValueId i : n.inputs) ins.push_back(i == kNoValue ? "_" : "%" + g.value(i).name);
    std::vector<std::string> attrs;
    for (const auto& [k, v] : n.attrs) attrs.push_back(k + "=" + attr_value_str(v));
    s += fmt::format("{} = {} '{}' ({})", fmt::join(outs, ", "),
                     n.op == OpId::Custom ? n.domain + "." + n.op_type : std::string(op_def(n.op).name), n.name, fmt::join(ins, ", "));
    if (!attrs.empty()) s += fmt::format(" {{{}}}", fmt::join(attrs, ", "));
    s += "\n";
  }
  for (ValueId id : g.outputs) s += "output %" + g.value(id).name + "\n";
  return s;
}

}  // namespace qmap
