// Mixed precision to an accuracy budget (mixed_precision.h).
#include "calib/mixed_precision.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/progress.h"
#include "core/thread_pool.h"

namespace qmap {

std::vector<QuantUnit> npu_units(const QuantizedModel& q) {
  std::vector<QuantUnit> units;
  std::map<std::string, size_t> index;
  for (const QuantNodeInfo& n : q.nodes) {
    if (n.where != Placement::kNpu) continue;
    const std::string key = n.group.empty() ? n.name : n.group;
    auto [it, fresh] = index.emplace(key, units.size());
    if (fresh) units.push_back({key, n.op_type, {}});
    units[it->second].members.push_back(n.name);
  }
  return units;
}

QuantizeOptions only_units_on_npu(const QuantizeOptions& base, const QuantizedModel& full,
                                  const std::set<std::string>& keep) {
  QuantizeOptions o = base;
  for (const QuantNodeInfo& n : full.nodes)
    if (n.where == Placement::kNpu && !keep.count(n.name)) {
      o.run_on_cpu.insert(n.name);
      o.run_on_npu.erase(n.name);
    }
  return o;
}

QuantizeOptions units_on_cpu(const QuantizeOptions& base, const std::vector<QuantUnit>& units) {
  QuantizeOptions o = base;
  for (const QuantUnit& u : units)
    for (const std::string& m : u.members) {
      o.run_on_cpu.insert(m);
      o.run_on_npu.erase(m);
    }
  return o;
}

Result<std::vector<UnitSensitivity>> rank_unit_sensitivity(const Graph& optimized, const Thresholds& thresholds,
                                                           const QuantizeOptions& qopts, const QuantizedModel& full,
                                                           const OutputScorer& scorer,
                                                           const SensitivityOptions& options) {
  const std::vector<QuantUnit> units = npu_units(full);
  std::vector<OutputScore> scores(units.size());
  std::vector<Status> errors(units.size());
  {
    ProgressBar bar("sensitivity", units.size(), options.progress);
    ThreadPool pool(std::clamp<int>(options.threads, 1, static_cast<int>(std::max<size_t>(units.size(), 1))));
    pool.parallel_for(units.size(), [&](size_t u, int) {
      const std::set<std::string> keep(units[u].members.begin(), units[u].members.end());
      auto q = quantize_graph(optimized, thresholds, only_units_on_npu(qopts, full, keep));
      if (!q.ok()) {
        errors[u] = q.status();
      } else if (auto s = scorer.score(q->graph); !s.ok()) {
        errors[u] = s.status();
      } else {
        scores[u] = *s;
      }
      bar.advance();
    });
  }
  for (size_t u = 0; u < units.size(); ++u)
    QMAP_RETURN_IF_ERROR(errors[u].with_context(fmt::format("node '{}' quantized alone: ", units[u].name)));
  std::vector<size_t> order(units.size());
  for (size_t u = 0; u < order.size(); ++u) order[u] = u;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (scores[a].cosine != scores[b].cosine) return scores[a].cosine < scores[b].cosine;
    return scores[a].sqnr_db < scores[b].sqnr_db;
  });
  std::vector<UnitSensitivity> ranked;
  ranked.reserve(order.size());
  for (size_t u : order) ranked.push_back({units[u], scores[u]});
  return ranked;
}

Graph with_float_constants(const Graph& to_quantize, const Graph& float_graph, const std::set<std::string>& nodes) {
  Graph g = to_quantize;
  if (nodes.empty()) return g;
  QMAP_CHECK(g.nodes.size() == float_graph.nodes.size(), "with_float_constants: {} and {} nodes", g.nodes.size(),
             float_graph.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& n = g.nodes[i];
    if (!nodes.count(n.name)) continue;
    const Node& f = float_graph.nodes[i];
    // Constant inputs the float node does not have (bias correction gives a Conv without a
    // bias one) go: the node computes what the float model's does.
    while (n.inputs.size() > f.inputs.size() &&
           (n.inputs.back() == kNoValue || g.value(n.inputs.back()).constant))
      n.inputs.pop_back();
    for (size_t j = 0; j < n.inputs.size() && j < f.inputs.size(); ++j) {
      if (n.inputs[j] == kNoValue || f.inputs[j] == kNoValue) continue;
      Value& v = g.value(n.inputs[j]);
      const Value& fv = float_graph.value(f.inputs[j]);
      if (v.constant && fv.constant) v.constant = fv.constant;
    }
  }
  return g;
}

Result<BudgetFit> fit_accuracy_budget(const Graph& float_graph, const Graph& to_quantize, const Thresholds& thresholds,
                                      const QuantizeOptions& qopts, double budget, const OutputScorer& scorer,
                                      const OutputScorer& sensitivity_scorer, const SensitivityOptions& options,
                                      BudgetPrecision precision) {
  if (!(budget > 0 && budget < 1)) return error("accuracy budget {}: expected an output cosine in (0, 1)", budget);
  BudgetFit fit;
  fit.budget = budget;
  fit.precision = precision;
  fit.options = qopts;
  fit.graph = to_quantize;
  QMAP_ASSIGN_OR_RETURN(const QuantizedModel full, quantize_graph(to_quantize, thresholds, qopts));
  QMAP_ASSIGN_OR_RETURN(fit.before, scorer.score(full.graph));
  fit.evaluations = 1;
  fit.after = fit.before;
  fit.units = npu_units(full).size();
  if (fit.before.cosine >= budget) {
    fit.met = true;
    return fit;
  }

  QMAP_ASSIGN_OR_RETURN(const std::vector<UnitSensitivity> ranked,
                        rank_unit_sensitivity(float_graph, thresholds, qopts, full, sensitivity_scorer, options));
  fit.evaluations += ranked.size();
  // The candidates: every unit none of whose nodes the config put on the NPU itself.
  std::vector<QuantUnit> candidates;
  for (const UnitSensitivity& s : ranked) {
    const bool pinned = std::any_of(s.unit.members.begin(), s.unit.members.end(),
                                    [&](const std::string& m) { return qopts.run_on_npu.count(m) > 0; });
    if (!pinned) candidates.push_back(s.unit);
  }

  // A moved unit gets an int16 output where it can (precision int16), else goes to float.
  std::set<std::string> capable;
  if (precision == BudgetPrecision::kInt16)
    for (const QuantNodeInfo& r : full.nodes)
      if (r.int16_capable) capable.insert(r.group.empty() ? r.name : r.group);
  auto widened = [&](const QuantUnit& u) { return capable.count(u.name) > 0; };
  // The graph with the float-moved of `units` computing in float: their own constants back.
  auto restored = [&](const std::vector<QuantUnit>& units) {
    std::set<std::string> nodes;
    for (const QuantUnit& u : units)
      if (!widened(u)) nodes.insert(u.members.begin(), u.members.end());
    return with_float_constants(to_quantize, float_graph, nodes);
  };
  // The options with `units` moved: int16 outputs for the widened, the CPU for the rest.
  auto moved_options = [&](const std::vector<QuantUnit>& units) {
    std::vector<QuantUnit> to_cpu;
    QuantizeOptions o = qopts;
    for (const QuantUnit& u : units) {
      if (widened(u)) o.int16_outputs.insert(u.name);
      else to_cpu.push_back(u);
    }
    return units_on_cpu(o, to_cpu);
  };
  // The result for the moved `units` (most sensitive first).
  auto finish = [&](const std::vector<QuantUnit>& units) {
    fit.moved.clear();
    fit.widened.clear();
    for (const QuantUnit& u : units) (widened(u) ? fit.widened : fit.moved).push_back(u);
    fit.options = moved_options(units);
    fit.graph = restored(units);
  };
  // One evaluation per distinct set of moved units (by index into candidates), remembered.
  std::map<std::vector<size_t>, OutputScore> seen;
  auto evaluate = [&](const std::vector<size_t>& set) -> Result<OutputScore> {
    if (set.empty()) return fit.before;
    if (auto it = seen.find(set); it != seen.end()) return it->second;
    std::vector<QuantUnit> units;
    for (size_t i : set) units.push_back(candidates[i]);
    QMAP_ASSIGN_OR_RETURN(const QuantizedModel q, quantize_graph(restored(units), thresholds, moved_options(units)));
    QMAP_ASSIGN_OR_RETURN(const OutputScore s, scorer.score(q.graph));
    ++fit.evaluations;
    seen.emplace(set, s);
    return s;
  };
  auto prefix = [](size_t k) {
    std::vector<size_t> p(k);
    for (size_t i = 0; i < k; ++i) p[i] = i;
    return p;
  };

  // Doubling, then bisection: `lo` falls short (0: the model as quantized), `hi` reaches.
  const size_t n = candidates.size();
  size_t lo = 0, hi = 0;
  for (size_t k = 1;; k *= 2) {
    const size_t len = std::min(k, n);
    if (len == 0) break;
    QMAP_ASSIGN_OR_RETURN(const OutputScore s, evaluate(prefix(len)));
    if (s.cosine >= budget) {
      hi = len;
      break;
    }
    lo = len;
    if (len == n) break;
  }
  if (hi == 0) {  // even every movable unit moved falls short
    if (!capable.empty()) {
      // int16 outputs keep int8 weights and 8-bit inputs, so the loss left is there: from every
      // capable unit in int16, the search moves units to float; then each int16 unit the
      // result does not need goes back to 8 bits (least sensitive first).
      QuantizeOptions all16 = qopts;
      for (const QuantUnit& u : candidates)
        if (widened(u)) all16.int16_outputs.insert(u.name);
      QMAP_ASSIGN_OR_RETURN(BudgetFit f, fit_accuracy_budget(float_graph, to_quantize, thresholds, all16, budget, scorer,
                                                             sensitivity_scorer, options, BudgetPrecision::kFloat));
      f.evaluations += fit.evaluations;
      f.before = fit.before;
      f.precision = precision;
      f.int16_fell_short = true;
      if (!f.met) return f;
      std::set<std::string> in_float;
      for (const QuantUnit& u : f.moved) in_float.insert(u.name);
      std::vector<QuantUnit> wide;  // most sensitive first
      for (const QuantUnit& u : candidates)
        if (widened(u) && !in_float.count(u.name)) wide.push_back(u);
      auto with_wide = [&](const std::vector<QuantUnit>& w) {
        QuantizeOptions o = f.options;
        o.int16_outputs = qopts.int16_outputs;
        for (const QuantUnit& u : w) o.int16_outputs.insert(u.name);
        return o;
      };
      for (size_t j = wide.size(); j-- > 0;) {
        std::vector<QuantUnit> without = wide;
        without.erase(without.begin() + static_cast<std::ptrdiff_t>(j));
        QMAP_ASSIGN_OR_RETURN(const QuantizedModel q, quantize_graph(f.graph, thresholds, with_wide(without)));
        QMAP_ASSIGN_OR_RETURN(const OutputScore s, scorer.score(q.graph));
        ++f.evaluations;
        if (s.cosine >= budget) {
          wide = std::move(without);
          f.after = s;
        }
      }
      f.options = with_wide(wide);
      f.widened = std::move(wide);
      return f;
    }
    QMAP_ASSIGN_OR_RETURN(fit.after, evaluate(prefix(n)));
    finish(candidates);
    return fit;
  }
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    QMAP_ASSIGN_OR_RETURN(const OutputScore s, evaluate(prefix(mid)));
    (s.cosine >= budget ? hi : lo) = mid;
  }

  // Prune: least sensitive first, a unit goes back to the NPU when the rest still reach.
  std::vector<size_t> set = prefix(hi);
  for (size_t j = set.size(); j-- > 0;) {
    if (set.size() == 1) break;  // the model as quantized falls short
    std::vector<size_t> without = set;
    without.erase(without.begin() + static_cast<std::ptrdiff_t>(j));
    QMAP_ASSIGN_OR_RETURN(const OutputScore s, evaluate(without));
    if (s.cosine >= budget) set = std::move(without);
  }
  std::vector<QuantUnit> units;
  for (size_t i : set) units.push_back(candidates[i]);
  QMAP_ASSIGN_OR_RETURN(fit.after, evaluate(set));
  fit.met = true;
  finish(units);
  return fit;
}

}  // namespace qmap
