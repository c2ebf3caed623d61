// The checker's placement (see checker_placement.h).
#include "quant/checker_placement.h"

#include <map>

#include "passes/passes.h"
#include "quant/quantize.h"

namespace qmap {

Result<GraphPlacement> checker_placement(const Graph& imported, const TargetSpec& spec) {
  const GraphPlacement march = place_graph(imported, spec);
  Graph optimized = imported;
  QMAP_RETURN_IF_ERROR(optimize_graph(optimized, OptimizeOptions{}, nullptr));
  QuantizeOptions qo;
  qo.target = &spec;
  QMAP_ASSIGN_OR_RETURN(const QuantPlacement planned, plan_placement(optimized, qo));

  std::map<std::string, size_t> by_name, by_output;
  for (size_t j = 0; j < optimized.nodes.size(); ++j) {
    by_name.emplace(optimized.nodes[j].name, j);
    for (ValueId o : optimized.nodes[j].outputs)
      if (o != kNoValue) by_output.emplace(optimized.value(o).name, j);
  }
  std::map<std::string, std::vector<size_t>> readers;  // imported value name -> reading nodes
  for (size_t i = 0; i < imported.nodes.size(); ++i)
    for (ValueId v : imported.nodes[i].inputs)
      if (v != kNoValue) readers[imported.value(v).name].push_back(i);

  auto same_name = [&](const std::string& name) -> std::optional<size_t> {
    if (auto it = by_name.find(name); it != by_name.end()) return it->second;
    return std::nullopt;
  };
  auto became = [&](const Node& n) -> std::optional<size_t> {
    if (auto j = same_name(n.name)) return j;
    for (ValueId o : n.outputs)
      if (o != kNoValue)
        if (auto it = by_output.find(imported.value(o).name); it != by_output.end()) return it->second;
    for (ValueId o : n.outputs)
      if (o != kNoValue)
        for (size_t r : readers[imported.value(o).name])
          if (auto j = same_name(imported.nodes[r].name)) return j;
    return std::nullopt;
  };

  PlacementOptions po;
  for (size_t i = 0; i < imported.nodes.size(); ++i) {
    const Placement where = march.nodes[i].where;
    if (where == Placement::kFolded || where == Placement::kUnsupported) continue;
    // A removed node counts only when it is still there (an Identity the passes kept).
    const std::optional<size_t> j =
        where == Placement::kRemoved ? same_name(imported.nodes[i].name) : became(imported.nodes[i]);
    if (!j) continue;
    const NodePlacement& p = planned.placement.nodes[*j];
    if (p.where == Placement::kNpu || p.where == Placement::kCpu) po.forced[imported.nodes[i].name] = p;
  }
  return place_graph(imported, spec, po);
}

}  // namespace qmap
