// Mixed precision to an accuracy budget (docs/quantization.md, "Accuracy budget"), and the
// per-unit sensitivity it ranks by (shared with `qmap debug`, makertbin/accuracy_debug.h).
//
// A quantization unit is a node the quantizer puts on the NPU, or a fused group of them
// (Conv + Relu) named by its head. Its sensitivity is the output score of the model with only
// that unit quantized and every other node in float (forced to the CPU), against the float
// model, on the scorer's samples (OutputScorer: the calibration samples the method search
// scores). The lower the cosine, the more the unit costs on its own.
//
// fit_accuracy_budget moves the fewest most sensitive units to higher precision such that the
// quantized model's mean output cosine reaches the budget. Higher precision is an int16 output
// on the NPU for a unit that can have one (QuantNodeInfo::int16_capable: Conv/Gemm/MatMul/Add
// whose readers take int16), and float on the CPU for the others (or for every unit with
// BudgetPrecision::kFloat). When even every movable unit so moved falls short (int16 outputs
// keep int8 weights and 8-bit inputs), the search runs again from every capable unit in int16,
// moving units to float on top (ranked anew on that model), and then each int16 unit the
// result does not need goes back to 8 bits, least sensitive first. The model quantized is the graph
// makertbin would quantize (after adaptive rounding and bias correction, which change weights
// and biases); a unit kept in float gets the float model's own constants back (its weights
// and bias, not their rounded or corrected forms), so it computes what the float model does
// (a unit given an int16 output keeps its quantized constants):
//   1. score the model as quantized; at or above the budget nothing moves;
//   2. rank the units by sensitivity (most sensitive first);
//   3. find the shortest prefix of that ranking whose units, in float, reach the budget:
//      doubling the prefix (1, 2, 4, ...) until one does, then bisecting between the last
//      prefix that fell short and the first that reached it;
//   4. prune: each unit of that prefix, least sensitive first, goes back to the NPU when the
//      budget still holds without it.
// The result is minimal in the sense that no single moved unit can go back. Every step is a
// quantize + score on fixed samples, in a fixed order: the same inputs give the same units.
// Units with a node in the config's run_on_npu are never moved (the user put them there).
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "calib/methods.h"
#include "calib/output_scorer.h"
#include "core/status.h"
#include "quant/quantize.h"

namespace qmap {

struct QuantUnit {
  std::string name, op_type;         // the node, or the fused group's head and its op
  std::vector<std::string> members;  // the nodes of the unit, in graph order
};

// The NPU units of a quantized model, in graph order.
std::vector<QuantUnit> npu_units(const QuantizedModel& q);

// `base` with every NPU node of `full` outside `keep` forced to the CPU (float); the base's
// own run_on_cpu kept.
QuantizeOptions only_units_on_npu(const QuantizeOptions& base, const QuantizedModel& full,
                                  const std::set<std::string>& keep);

// `base` with every member of `units` forced to the CPU.
QuantizeOptions units_on_cpu(const QuantizeOptions& base, const std::vector<QuantUnit>& units);

struct UnitSensitivity {
  QuantUnit unit;
  OutputScore score;  // the model with only this unit quantized
};

struct SensitivityOptions {
  int threads = 1;        // units scored in parallel (the scorer should use 1 thread)
  bool progress = false;  // a progress bar on a terminal
};

// Every unit of `full` (quantize_graph(optimized, thresholds, qopts)), most sensitive first:
// ascending cosine, then ascending SQNR, then graph order. Errors name the unit.
Result<std::vector<UnitSensitivity>> rank_unit_sensitivity(const Graph& optimized, const Thresholds& thresholds,
                                                           const QuantizeOptions& qopts, const QuantizedModel& full,
                                                           const OutputScorer& scorer,
                                                           const SensitivityOptions& options = {});

// What a unit moved by the budget becomes.
enum class BudgetPrecision {
  kInt16,  // an int16 output where the unit can have one, else float on the CPU
  kFloat,  // float on the CPU
};

struct BudgetFit {
  double budget = 0;
  BudgetPrecision precision = BudgetPrecision::kInt16;  // what the result used
  bool int16_fell_short = false;  // int16 outputs for every capable unit fell short: float on top
  OutputScore before;  // the model as quantized with the given options
  OutputScore after;   // with `widened` in int16 and `moved` in float (== before when nothing moved)
  std::vector<QuantUnit> moved;    // kept in float on the CPU, most sensitive first
  std::vector<QuantUnit> widened;  // given int16 outputs on the NPU, most sensitive first
  size_t units = 0;              // NPU units the model had
  size_t evaluations = 0;        // quantize + score runs, sensitivity included
  bool met = false;              // after.cosine >= budget
  QuantizeOptions options;       // qopts with `moved` on the CPU and `widened` in int16_outputs
  Graph graph;                   // to_quantize with `moved`'s constants from the float graph
};

// `to_quantize` with the constant inputs of `nodes` taken from `float_graph` (same nodes in
// the same order; only constants differ, or a constant input `to_quantize` added, such as
// bias correction's bias of a Conv that had none: it is dropped).
Graph with_float_constants(const Graph& to_quantize, const Graph& float_graph, const std::set<std::string>& nodes);

// budget in (0, 1): the least mean output cosine. `float_graph`: the optimized float model (the
// units are ranked on it); `to_quantize`: what makertbin quantizes (the same graph, or its
// rounded / bias-corrected form). `scorer` scores the search against the float model (its
// samples decide); `sensitivity_scorer` may be a single-threaded scorer over the same samples
// (the units are scored in parallel with options.threads). `met` is false only when even every
// movable unit in float falls short (then `moved` holds them all).
Result<BudgetFit> fit_accuracy_budget(const Graph& float_graph, const Graph& to_quantize, const Thresholds& thresholds,
                                      const QuantizeOptions& qopts, double budget, const OutputScorer& scorer,
                                      const OutputScorer& sensitivity_scorer, const SensitivityOptions& options = {},
                                      BudgetPrecision precision = BudgetPrecision::kInt16);

}  // namespace qmap
