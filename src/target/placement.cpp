// Placement and the NPU subgraph split (see placement.h for the rules).
#include "target/placement.h"

#include <algorithm>
#include <map>
#include <queue>
#include <set>

#include "ops/custom/custom_op.h"
#include "ops/registry.h"

namespace qmap {

namespace {

// Ops canonicalization deletes (passes/): they compute nothing at inference time. Kept here
// until OpDef grows a flag for it; by name so the list works before the ops are registered.
bool removed_by_canonicalize(const Node& node) {
  return node.op_type == "Identity" || node.op_type == "Dropout";
}

bool is_constant(const Graph& g, ValueId v) { return v != kNoValue && g.value(v).constant.has_value(); }

bool all_outputs_constant(const Graph& g, const Node& n) {
  if (n.outputs.empty()) return false;
  return std::all_of(n.outputs.begin(), n.outputs.end(),
                     [&](ValueId v) { return v == kNoValue || is_constant(g, v); }) &&
         std::any_of(n.outputs.begin(), n.outputs.end(), [](ValueId v) { return v != kNoValue; });
}

// Union-find over subgraph ids: subgraphs merge when a node joins two of them.
struct SubgraphSets {
  std::vector<int> parent;
  std::vector<std::set<int>> blocked;  // per root: subgraphs with a path into it that leaves them

  int make() {
    parent.push_back(static_cast<int>(parent.size()));
    blocked.emplace_back();
    return parent.back();
  }
  int find(int s) {
    while (parent[static_cast<size_t>(s)] != s) s = parent[static_cast<size_t>(s)] = parent[static_cast<size_t>(parent[static_cast<size_t>(s)])];
    return s;
  }
  bool blocks(int root, int other) {  // does `other` reach `root` through the outside?
    for (int b : blocked[static_cast<size_t>(root)])
      if (find(b) == other) return true;
    return false;
  }
  void merge_into(int keep, int gone) {
    parent[static_cast<size_t>(gone)] = keep;
    auto& dst = blocked[static_cast<size_t>(keep)];
    const auto& src = blocked[static_cast<size_t>(gone)];
    dst.insert(src.begin(), src.end());
  }
};

// Per node: which subgraphs reach it, which reach it only via a path leaving them, and for
// transparent (removed) nodes the subgraphs they forward as join candidates.
struct Reach {
  std::set<int> reach, blocked, candidates;
};

// Groups NPU nodes into subgraphs; writes NodePlacement::subgraph (renumbered later).
int split_subgraphs(const Graph& g, const std::vector<int>& producer_of, std::vector<NodePlacement>& nodes) {
  SubgraphSets sets;
  std::vector<Reach> info(g.nodes.size());
  std::vector<int> raw(g.nodes.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Placement where = nodes[i].where;
    if (where == Placement::kFolded) continue;
    Reach& r = info[i];
    for (ValueId v : g.nodes[i].inputs) {
      if (v == kNoValue || is_constant(g, v)) continue;  // constants carry no runtime edge
      const int p = producer_of[static_cast<size_t>(v)];
      if (p < 0) continue;
      const Reach& pr = info[static_cast<size_t>(p)];
      const Placement pw = nodes[static_cast<size_t>(p)].where;
      r.reach.insert(pr.reach.begin(), pr.reach.end());
      r.blocked.insert(pr.blocked.begin(), pr.blocked.end());
      if (pw == Placement::kNpu) {
        const int t = sets.find(raw[static_cast<size_t>(p)]);
        for (int s : pr.reach)
          if (sets.find(s) != t) r.blocked.insert(s);
        r.reach.insert(t);
        r.candidates.insert(t);
      } else if (pw == Placement::kRemoved) {
        r.candidates.insert(pr.candidates.begin(), pr.candidates.end());
      } else {  // CPU or unsupported: every path through it leaves every subgraph
        r.blocked.insert(pr.reach.begin(), pr.reach.end());
      }
    }
    if (where != Placement::kNpu) continue;
    std::set<int> blocked_roots;
    for (int b : r.blocked) blocked_roots.insert(sets.find(b));
    std::vector<int> admissible;
    for (int c : r.candidates) {
      const int root = sets.find(c);
      if (!blocked_roots.count(root) &&
          std::find(admissible.begin(), admissible.end(), root) == admissible.end())
        admissible.push_back(root);
    }
    std::sort(admissible.begin(), admissible.end());
    int target;
    if (admissible.empty()) {
      target = sets.make();
    } else {
      target = admissible[0];
      // Merge the other admissible subgraphs when neither reaches the other from outside:
      // two NPU branches that meet here then run as one subgraph.
      for (size_t k = 1; k < admissible.size(); ++k) {
        const int other = sets.find(admissible[k]);
        if (other == target) continue;
        if (!sets.blocks(target, other) && !sets.blocks(other, target)) sets.merge_into(target, other);
      }
    }
    auto& tb = sets.blocked[static_cast<size_t>(target)];
    tb.insert(r.blocked.begin(), r.blocked.end());
    raw[i] = target;
  }

  // Units of the condensed graph: one per subgraph root, one per CPU/unsupported node.
  // Removed nodes forward their inputs' units; folded nodes have none.
  const size_t n = g.nodes.size();
  std::vector<int> unit(n, -1);
  std::map<int, int> root_unit;
  std::vector<size_t> unit_first;  // first node index of each unit (tie-break)
  std::vector<int> unit_root;      // subgraph root, or -1 for a CPU unit
  for (size_t i = 0; i < n; ++i) {
    const Placement w = nodes[i].where;
    if (w == Placement::kNpu) {
      const int root = sets.find(raw[i]);
      auto it = root_unit.find(root);
      if (it == root_unit.end()) {
        it = root_unit.emplace(root, static_cast<int>(unit_first.size())).first;
        unit_first.push_back(i);
        unit_root.push_back(root);
      }
      unit[i] = it->second;
    } else if (w == Placement::kCpu || w == Placement::kUnsupported) {
      unit[i] = static_cast<int>(unit_first.size());
      unit_first.push_back(i);
      unit_root.push_back(-1);
    }
  }
  const size_t units = unit_first.size();
  std::vector<std::set<int>> sources(n);  // units feeding node i at runtime
  std::vector<std::set<int>> succ(units);
  std::vector<int> indegree(units, 0);
  for (size_t i = 0; i < n; ++i) {
    if (nodes[i].where == Placement::kFolded) continue;
    std::set<int> in;
    for (ValueId v : g.nodes[i].inputs) {
      if (v == kNoValue || is_constant(g, v)) continue;
      const int p = producer_of[static_cast<size_t>(v)];
      if (p < 0) continue;
      if (nodes[static_cast<size_t>(p)].where == Placement::kRemoved) {
        in.insert(sources[static_cast<size_t>(p)].begin(), sources[static_cast<size_t>(p)].end());
      } else if (unit[static_cast<size_t>(p)] >= 0) {
        in.insert(unit[static_cast<size_t>(p)]);
      }
    }
    if (nodes[i].where == Placement::kRemoved) {
      sources[i] = std::move(in);
      continue;
    }
    for (int u : in) {
      if (u == unit[i]) continue;
      if (succ[static_cast<size_t>(u)].insert(unit[i]).second) ++indegree[static_cast<size_t>(unit[i])];
    }
  }
  // Kahn's algorithm, smallest first node first: deterministic, and the plain node order
  // whenever that order is already valid.
  using Item = std::pair<size_t, int>;  // (first node, unit)
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> ready;
  for (size_t u = 0; u < units; ++u)
    if (indegree[u] == 0) ready.push({unit_first[u], static_cast<int>(u)});
  std::map<int, int> final_id;  // root -> numbered id
  size_t done = 0;
  while (!ready.empty()) {
    const int u = ready.top().second;
    ready.pop();
    ++done;
    if (unit_root[static_cast<size_t>(u)] >= 0)
      final_id.emplace(unit_root[static_cast<size_t>(u)], static_cast<int>(final_id.size()));
    for (int s : succ[static_cast<size_t>(u)])
      if (--indegree[static_cast<size_t>(s)] == 0) ready.push({unit_first[static_cast<size_t>(s)], s});
  }
  QMAP_CHECK(done == units, "subgraph split produced a cycle ({} of {} units ordered)", done, units);
  for (size_t i = 0; i < n; ++i)
    if (nodes[i].where == Placement::kNpu) nodes[i].subgraph = final_id.at(sets.find(raw[i]));
  return static_cast<int>(final_id.size());
}

}  // namespace

const char* placement_name(Placement p) {
  switch (p) {
    case Placement::kNpu: return "NPU";
    case Placement::kCpu: return "CPU";
    case Placement::kFolded: return "folded";
    case Placement::kRemoved: return "removed";
    case Placement::kUnsupported: return "unsupported";
  }
  return "?";
}

int GraphPlacement::count(Placement p) const {
  return static_cast<int>(std::count_if(nodes.begin(), nodes.end(), [&](const NodePlacement& n) { return n.where == p; }));
}

OpParams node_params(const Graph& graph, const Node& node) {
  OpParams params;
  const std::vector<TensorInfo> inputs = input_infos(graph, node);
  int dynamic_inputs = 0;
  for (const TensorInfo& ti : inputs)
    if (ti.present && ti.value == nullptr) ++dynamic_inputs;
  const OpDef& def = op_def(node.op);
  if (def.npu_params != nullptr) {
    std::vector<std::optional<Dims>> outs;
    for (ValueId v : node.outputs) outs.push_back(v == kNoValue ? std::nullopt : graph.value(v).dims);
    const InferCtx ctx(node, inputs);
    def.npu_params(ctx, outs, params);
  }
  // Generic parameters of the tensors the NPU would read and write (constants are weights
  // or shape operands, limited through the op's own parameters).
  auto add_tensor = [&](ValueId v) {
    if (v == kNoValue) return;
    const Value& val = graph.value(v);
    if (val.constant) return;
    if (val.dims) {
      params.push_back({"rank", {static_cast<int64_t>(val.dims->size())}, {}});
      params.push_back({"tensor_elements", {num_elements(*val.dims)}, {}});
    }
    params.push_back({"dtype", {}, dtype_name(val.dtype)});
  };
  for (ValueId v : node.inputs) add_tensor(v);
  for (ValueId v : node.outputs) add_tensor(v);
  params.push_back({"dynamic_inputs", {dynamic_inputs}, {}});
  return params;
}

std::optional<std::string> npu_reject_reason(const TargetSpec& spec, const NpuOpRule& rule,
                                             const OpParams& params) {
  for (const Limit& limit : spec.effective_limits(rule))
    if (auto reason = check_limit(limit, params)) return reason;
  return std::nullopt;
}

GraphPlacement place_graph(const Graph& graph, const TargetSpec& spec, const PlacementOptions& options) {
  GraphPlacement out;
  out.nodes.resize(graph.nodes.size());
  std::set<std::string> unsupported;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    NodePlacement& np = out.nodes[i];
    if (all_outputs_constant(graph, node)) {
      np.where = Placement::kFolded;
      np.reason = "constant output, computed at compile time";
    } else if (removed_by_canonicalize(node) && options.canonicalized) {
      np.where = Placement::kCpu;
      np.reason = "kept by the float passes (it connects a graph input or output): a copy on the CPU";
    } else if (removed_by_canonicalize(node)) {
      np.where = Placement::kRemoved;
      np.reason = "removed by canonicalization";
    } else if (node.op == OpId::Custom) {
      // A plugin's op: its float32 kernel on the CPU of any march (never the NPU).
      np.where = Placement::kCpu;
      np.reason = fmt::format("custom op {}.{} ({}): float CPU kernel", node.domain, node.op_type,
                              node.custom ? node.custom->library_name : std::string("no plugin"));
    } else if (const NpuOpRule* rule = spec.npu_rule(node.op)) {
      const OpParams params = options.params ? options.params(graph, node) : node_params(graph, node);
      if (auto reason = npu_reject_reason(spec, *rule, params)) {
        np.where = Placement::kCpu;
        np.reason = *reason;
      } else {
        np.where = Placement::kNpu;
      }
    } else if (spec.is_cpu_op(node.op)) {
      np.where = Placement::kCpu;
      np.reason = fmt::format("op not supported by the NPU of march {}", spec.name);
    } else {
      np.where = Placement::kUnsupported;
      np.reason = fmt::format("op supported neither on the NPU nor on the CPU of march {}", spec.name);
      unsupported.insert(node.op_type);
    }
    // Forcing cannot make an op the march lacks runnable, nor bring back a folded node.
    const auto forced = options.forced.find(node.name);
    if (forced != options.forced.end() &&
        (np.where == Placement::kNpu || np.where == Placement::kCpu || np.where == Placement::kRemoved)) {
      np.where = forced->second.where;
      np.reason = forced->second.reason;
    }
  }
  std::vector<int> producer_of(graph.values.size(), -1);
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    for (ValueId v : graph.nodes[i].outputs)
      if (v != kNoValue) producer_of[static_cast<size_t>(v)] = static_cast<int>(i);
  out.num_subgraphs = split_subgraphs(graph, producer_of, out.nodes);
  out.unsupported_ops.assign(unsupported.begin(), unsupported.end());
  return out;
}

}  // namespace qmap
