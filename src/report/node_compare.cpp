// Per-node comparison of the integer simulation with the float model (node_compare.h).
#include "report/node_compare.h"

#include <fmt/format.h>

#include <cmath>

#include "engine/float_engine.h"
#include "quant/int_simulator.h"

namespace qmap {

Tensor as_float(const Tensor& t) { return t.dtype() == DType::kFloat32 ? t : cast_tensor(t, DType::kFloat32); }

std::optional<double> value_cosine(const std::map<std::string, Tensor>& float_values,
                                   const std::map<std::string, Tensor>& int_values,
                                   const std::map<std::string, std::string>& value_map, const std::string& name) {
  auto f = float_values.find(name);
  auto m = value_map.find(name);
  if (f == float_values.end() || m == value_map.end()) return std::nullopt;
  auto q = int_values.find(m->second);
  if (q == int_values.end() || f->second.dtype() != DType::kFloat32 || f->second.numel() != q->second.numel())
    return std::nullopt;
  return compare_tensors(f->second, as_float(q->second)).cosine;
}

Result<NodeComparison> compare_nodes(const Graph& optimized, const QuantizedModel& quantized,
                                     const std::vector<std::vector<Tensor>>& samples) {
  QMAP_CHECK(!samples.empty(), "compare_nodes needs a sample");
  QMAP_ASSIGN_OR_RETURN(FloatEngine fe, FloatEngine::create(optimized, {.keep_all_values = true}));
  QMAP_ASSIGN_OR_RETURN(IntSimulator sim, IntSimulator::create(quantized.graph, true));
  std::map<std::string, const Node*> by_name;
  for (const Node& n : optimized.nodes) by_name[n.name] = &n;
  std::map<std::string, std::string> group_tail;
  for (const QuantNodeInfo& n : quantized.nodes)
    if (!n.group.empty()) group_tail[n.group] = n.name;

  NodeComparison c;
  for (const QuantNodeInfo& n : quantized.nodes) {
    const auto tail = group_tail.find(n.group.empty() ? n.name : n.group);
    const auto it = by_name.find(tail == group_tail.end() ? n.name : tail->second);
    NodeCosine row;
    row.name = n.name;
    row.op_type = n.op_type;
    row.where = n.where;
    row.subgraph = n.subgraph;
    row.value = it != by_name.end() && !it->second->outputs.empty() ? optimized.value(it->second->outputs[0]).name : "";
    if (n.where == Placement::kNpu && std::isfinite(n.threshold) && n.threshold > 0) row.threshold = n.threshold;
    c.nodes.push_back(std::move(row));
  }
  for (ValueId id : optimized.outputs) c.outputs.push_back({optimized.value(id).name, {}});

  // Sums in sample order, then means: deterministic.
  std::vector<double> cos_sum(c.nodes.size(), 0);
  std::vector<int> cos_count(c.nodes.size(), 0);
  for (const auto& sample : samples) {
    QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> fout, fe.run(sample));
    QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> qout, sim.run(sample));
    for (size_t i = 0; i < c.nodes.size(); ++i)
      if (auto v = value_cosine(fe.all_values(), sim.all_values(), quantized.value_map, c.nodes[i].value)) {
        cos_sum[i] += *v;
        ++cos_count[i];
      }
    for (size_t k = 0; k < c.outputs.size() && k < fout.size() && k < qout.size(); ++k) {
      const TensorDistance d = compare_tensors(fout[k], as_float(qout[k]));
      TensorDistance& s = c.outputs[k].distance;
      s.cosine += d.cosine;
      s.l1 += d.l1;
      s.l2 += d.l2;
      s.chebyshev += d.chebyshev;
      s.mse += d.mse;
      s.sqnr_db += d.sqnr_db;
    }
  }
  for (size_t i = 0; i < c.nodes.size(); ++i)
    if (cos_count[i] > 0) c.nodes[i].cosine = cos_sum[i] / cos_count[i];
  const double n = static_cast<double>(samples.size());
  for (auto& o : c.outputs) {
    TensorDistance& s = o.distance;
    s.cosine /= n, s.l1 /= n, s.l2 /= n, s.chebyshev /= n, s.mse /= n, s.sqnr_db /= n;
  }
  return c;
}

std::vector<TextRow> node_table_rows(const NodeComparison& c) {
  std::vector<TextRow> rows = {{"Node", "ON", "Subgraph", "Type", "Cosine Similarity", "Threshold"}};
  for (const NodeCosine& n : c.nodes) {
    const bool npu = n.where == Placement::kNpu;
    rows.push_back({n.name,
                    npu                          ? "NPU"
                    : n.where == Placement::kCpu ? "CPU"
                                                 : "--",
                    npu ? fmt::format("id({})", n.subgraph) : "--", n.op_type,
                    n.cosine ? fmt::format("{:.6f}", *n.cosine) : "--",
                    n.threshold ? fmt::format("{:.6f}", *n.threshold) : "--"});
  }
  return rows;
}

std::vector<TextRow> output_table_rows(const NodeComparison& c) {
  std::vector<TextRow> rows = {{"Output", "Cosine Similarity", "L1 Distance", "L2 Distance", "Chebyshev Distance"}};
  for (const OutputDistance& o : c.outputs)
    rows.push_back({o.name, fmt::format("{:.6f}", o.distance.cosine), fmt::format("{:.6f}", o.distance.l1),
                    fmt::format("{:.6f}", o.distance.l2), fmt::format("{:.6f}", o.distance.chebyshev)});
  return rows;
}

}  // namespace qmap
