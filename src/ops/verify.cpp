#include "ops/verify.h"

#include <set>

#include "ops/custom/custom_op.h"
#include "ops/registry.h"

namespace qmap {

Status validate_attributes(const Node& n) {
  if (n.op == OpId::Custom) return validate_custom_attributes(n);  // the plugin's declaration
  return validate_builtin_attributes(n);
}

Status verify_graph(const Graph& g) {
  std::set<std::string> names;
  for (const Value& v : g.values)
    if (!names.insert(v.name).second) return error("verify: value name '{}' is used twice", v.name);
  std::vector<bool> defined(g.values.size(), false);
  for (ValueId id : g.inputs) {
    if (id < 0 || static_cast<size_t>(id) >= g.values.size()) return error("verify: graph input id {} out of range", id);
    defined[static_cast<size_t>(id)] = true;
  }
  for (size_t i = 0; i < g.values.size(); ++i)
    if (g.values[i].is_initializer) {
      if (!g.values[i].constant) return error("verify: initializer '{}' has no data", g.values[i].name);
      defined[i] = true;
    }
  for (const Node& n : g.nodes) {
    if (const Status st = validate_builtin_arity(n); !st.ok()) return error("verify: {}", st.message());
    for (ValueId id : n.inputs) {
      if (id == kNoValue) continue;
      if (id < 0 || static_cast<size_t>(id) >= g.values.size())
        return error("verify: {} '{}': input id {} out of range", n.op_type, n.name, id);
      if (!defined[static_cast<size_t>(id)])
        return error("verify: {} '{}': input '{}' is used before it is produced (nodes not in topological order, or no producer)",
                     n.op_type, n.name, g.value(id).name);
    }
    for (ValueId id : n.outputs) {
      if (id == kNoValue) continue;
      if (id < 0 || static_cast<size_t>(id) >= g.values.size())
        return error("verify: {} '{}': output id {} out of range", n.op_type, n.name, id);
      if (defined[static_cast<size_t>(id)])
        return error("verify: {} '{}': output '{}' is produced twice", n.op_type, n.name, g.value(id).name);
      defined[static_cast<size_t>(id)] = true;
    }
    QMAP_RETURN_IF_ERROR(validate_attributes(n).with_context("verify: "));
  }
  for (ValueId id : g.outputs) {
    if (id < 0 || static_cast<size_t>(id) >= g.values.size()) return error("verify: graph output id {} out of range", id);
    if (!defined[static_cast<size_t>(id)]) return error("verify: graph output '{}' is produced by nothing", g.value(id).name);
  }
  return ok_status();
}

}  // namespace qmap
