// Mixed precision to an accuracy budget on a small network with one badly clipped tensor: the
// fit keeps the nodes around it in float, reaches the budget, moves no node it does not need.
#include "calib/mixed_precision.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/float_engine.h"
#include "calib/calib_test_util.h"
#include "quant/float_range_test_util.h"

namespace qmap {
namespace {

// max |v| of every float value over the samples, with 'r2' (c2 + Relu's output) clipped to a
// twentieth of its range: the one badly quantized tensor.
Thresholds thresholds_with_one_clipped(const Graph& g, const std::vector<std::vector<Tensor>>& s) {
  Thresholds t = testing::max_abs_thresholds(g, s);
  t.at("r2") /= 20.f;
  return t;
}

struct Fixture {
  Graph g = calib_testing::residual_network(21);
  std::vector<std::vector<Tensor>> s = testing::seeded_samples({1, 3, 8, 8}, 300, 8, -1.f, 1.f);
  Thresholds t = thresholds_with_one_clipped(g, s);
  OutputScorer scorer = *OutputScorer::create(g, s, {.threads = 2});
  OutputScorer unit_scorer = scorer.with_options({.threads = 1});

  double cosine(const QuantizeOptions& o) const {
    auto q = quantize_graph(g, t, o);
    QMAP_CHECK(q.ok(), "{}", q.status().message());
    auto sc = scorer.score(q->graph);
    QMAP_CHECK(sc.ok(), "{}", sc.status().message());
    return sc->cosine;
  }
};

std::set<std::string> names(const std::vector<QuantUnit>& units) {
  std::set<std::string> n;
  for (const auto& u : units) n.insert(u.name);
  return n;
}

TEST(MixedPrecision, UnitsAreTheNpuNodesWithFusedGroups) {
  const Fixture f;
  auto q = quantize_graph(f.g, f.t, {});
  ASSERT_TRUE(q.ok()) << q.status().message();
  const auto units = npu_units(*q);
  ASSERT_EQ(units.size(), 5u);  // c1+r1, c2+r2, c3, c4, add
  EXPECT_EQ(units[0].name, "c1");
  EXPECT_EQ(units[0].members, (std::vector<std::string>{"c1", "r1"}));
  EXPECT_EQ(units[1].members, (std::vector<std::string>{"c2", "r2"}));
}

TEST(MixedPrecision, SensitivityRanksTheClippedTensorsNodesFirst) {
  const Fixture f;
  auto q = quantize_graph(f.g, f.t, {});
  ASSERT_TRUE(q.ok());
  auto ranked = rank_unit_sensitivity(f.g, f.t, {}, *q, f.unit_scorer, {.threads = 2});
  ASSERT_TRUE(ranked.ok()) << ranked.status().message();
  ASSERT_EQ(ranked->size(), 5u);
  // c2 writes the clipped tensor and c3 reads it: quantized alone, each clips it.
  EXPECT_EQ((std::set<std::string>{(*ranked)[0].unit.name, (*ranked)[1].unit.name}),
            (std::set<std::string>{"c2", "c3"}));
  for (size_t i = 1; i < ranked->size(); ++i) EXPECT_LE((*ranked)[i - 1].score.cosine, (*ranked)[i].score.cosine);
  // The same ranking on every thread count (each unit's score is its own run).
  auto serial = rank_unit_sensitivity(f.g, f.t, {}, *q, f.unit_scorer, {.threads = 1});
  ASSERT_TRUE(serial.ok());
  for (size_t i = 0; i < ranked->size(); ++i) EXPECT_EQ((*serial)[i].unit.name, (*ranked)[i].unit.name);
}

TEST(MixedPrecision, FitReachesTheBudgetWithAMinimalSet) {
  const Fixture f;
  const double before = f.cosine({});
  // Between the model as quantized and the model with the clipped tensor's nodes in float.
  QuantizeOptions both;
  both.run_on_cpu = {"c2", "r2", "c3"};
  const double fixed = f.cosine(both);
  ASSERT_LT(before, fixed);
  const double budget = (before + fixed) / 2;
  auto fit = fit_accuracy_budget(f.g, f.g, f.t, {}, budget, f.scorer, f.unit_scorer, {.threads = 2},
                                 BudgetPrecision::kFloat);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  EXPECT_TRUE(fit->met);
  EXPECT_TRUE(fit->widened.empty());
  EXPECT_EQ(fit->units, 5u);
  EXPECT_DOUBLE_EQ(fit->before.cosine, before);
  EXPECT_GE(fit->after.cosine, budget);
  EXPECT_LT(fit->before.cosine, budget);
  ASSERT_FALSE(fit->moved.empty());
  // Only the clipped tensor's writer and reader are worth moving.
  for (const auto& n : names(fit->moved)) EXPECT_TRUE(n == "c2" || n == "c3") << n;
  // The options keep exactly the moved units' nodes on the CPU, and reach the budget.
  EXPECT_DOUBLE_EQ(f.cosine(fit->options), fit->after.cosine);
  // Minimal: no moved unit can go back to the NPU with the budget still reached.
  for (size_t i = 0; i < fit->moved.size(); ++i) {
    std::vector<QuantUnit> rest = fit->moved;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
    EXPECT_LT(f.cosine(units_on_cpu({}, rest)), budget) << fit->moved[i].name << " was not needed";
  }
  // Deterministic: the same fit again.
  auto again = fit_accuracy_budget(f.g, f.g, f.t, {}, budget, f.scorer, f.unit_scorer, {.threads = 1},
                                   BudgetPrecision::kFloat);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(names(again->moved), names(fit->moved));
  EXPECT_EQ(again->after.cosine, fit->after.cosine);
}

TEST(MixedPrecision, ABudgetAlreadyReachedMovesNothing) {
  const Fixture f;
  const double before = f.cosine({});
  auto fit = fit_accuracy_budget(f.g, f.g, f.t, {}, before * 0.999, f.scorer, f.unit_scorer);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  EXPECT_TRUE(fit->met);
  EXPECT_TRUE(fit->moved.empty());
  EXPECT_EQ(fit->evaluations, 1u);  // the model as quantized, scored once
}

TEST(MixedPrecision, NodesTheConfigPutOnTheNpuNeverMove) {
  const Fixture f;
  QuantizeOptions pinned;
  pinned.run_on_npu = {"c2", "r2", "c3"};
  QuantizeOptions both;
  both.run_on_cpu = {"c2", "r2", "c3"};
  const double budget = (f.cosine({}) + f.cosine(both)) / 2;
  auto fit = fit_accuracy_budget(f.g, f.g, f.t, pinned, budget, f.scorer, f.unit_scorer, {}, BudgetPrecision::kFloat);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  // Without c2 and c3 nothing reaches the budget: every other unit moved, and `met` says no.
  EXPECT_FALSE(fit->met);
  EXPECT_EQ(names(fit->moved), (std::set<std::string>{"c1", "c4", "add"}));
  for (const auto& u : fit->moved)
    for (const auto& m : u.members) EXPECT_FALSE(pinned.run_on_npu.count(m)) << m;
}

// A unit kept in float computes with the float model's own constants, not their rounded or
// bias-corrected forms in the graph makertbin quantizes; the other nodes keep those.
TEST(MixedPrecision, NodesKeptInFloatGetTheFloatConstantsBack) {
  const Fixture f;
  Graph changed = f.g;
  for (Value& v : changed.values)
    if (v.constant && v.constant->dtype() == DType::kFloat32) {
      v.constant = v.constant->clone();  // copies share buffers: f.g must keep its own
      for (float& x : v.constant->data<float>()) x *= 1.01f;
    }
  // c2 had no bias; the changed graph gives it one (as bias correction does).
  for (Node& n : changed.nodes)
    if (n.name == "c2") n.inputs.push_back(changed.add_constant("c2_bias", Tensor(DType::kFloat32, {8})));
  const Graph mixed = with_float_constants(changed, f.g, {"c2", "add"});
  for (const Node& n : mixed.nodes) {
    if (n.name == "c2") {
      EXPECT_EQ(n.inputs.size(), 2u) << "the added bias is dropped";
    }
  }
  for (size_t i = 0; i < mixed.nodes.size(); ++i) {
    const Node& n = mixed.nodes[i];
    if (n.inputs.size() < 2 || !mixed.value(n.inputs[1]).constant) continue;
    const auto got = mixed.value(n.inputs[1]).constant->data<float>();
    const auto want = (n.name == "c2" ? f.g : changed).value(f.g.nodes[i].inputs[1]).constant->data<float>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < got.size(); ++k) ASSERT_EQ(got[k], want[k]) << n.name;
  }
  // The fit returns that graph: the perturbed model needs c2 and c3 in float, with their own
  // weights back.
  QuantizeOptions both;
  both.run_on_cpu = {"c2", "r2", "c3"};
  const double budget = (f.cosine({}) + f.cosine(both)) / 2;
  auto fit = fit_accuracy_budget(f.g, changed, f.t, {}, budget, f.scorer, f.unit_scorer, {}, BudgetPrecision::kFloat);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  ASSERT_FALSE(fit->moved.empty());
  const std::set<std::string> moved = names(fit->moved);
  for (size_t i = 0; i < fit->graph.nodes.size(); ++i) {
    const Node& n = fit->graph.nodes[i];
    if (n.inputs.size() < 2 || !fit->graph.value(n.inputs[1]).constant) continue;
    const bool in_float = moved.count(n.name) > 0;
    EXPECT_EQ(fit->graph.value(n.inputs[1]).constant->data<float>()[0],
              (in_float ? f.g : changed).value(n.inputs[1]).constant->data<float>()[0])
        << n.name;
  }
}

// int16 as the higher precision: the clipped tensor's writer gets an int16 output at its max
// |v| (no clipping, a 256 times finer step) and stays on the NPU; nothing goes to float.
TEST(MixedPrecision, Int16OutputsReachTheBudgetOnTheNpu) {
  const Fixture f;
  QuantizeOptions base;
  base.int16_thresholds = testing::max_abs_thresholds(f.g, f.s);
  const double before = f.cosine(base);
  QuantizeOptions both = base;
  both.run_on_cpu = {"c2", "r2", "c3"};
  const double budget = (before + f.cosine(both)) / 2;
  auto fit = fit_accuracy_budget(f.g, f.g, f.t, base, budget, f.scorer, f.unit_scorer, {.threads = 2});
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  EXPECT_TRUE(fit->met);
  EXPECT_EQ(fit->precision, BudgetPrecision::kInt16);
  EXPECT_TRUE(fit->moved.empty()) << "every unit here can have an int16 output";
  ASSERT_FALSE(fit->widened.empty());
  EXPECT_TRUE(names(fit->widened).count("c2")) << "c2 writes the clipped tensor";
  EXPECT_GE(fit->after.cosine, budget);
  EXPECT_TRUE(fit->options.run_on_cpu.empty());
  EXPECT_EQ(fit->options.int16_outputs, names(fit->widened));
  EXPECT_DOUBLE_EQ(f.cosine(fit->options), fit->after.cosine);
  // The quantized model holds int16 Q/DQ pairs for them, and c2's threshold is its max.
  auto q = quantize_graph(f.g, f.t, fit->options);
  ASSERT_TRUE(q.ok()) << q.status().message();
  for (const QuantNodeInfo& r : q->nodes)
    if (r.name == "c2") {
      EXPECT_TRUE(r.output_int16);
      EXPECT_EQ(r.threshold, base.int16_thresholds.at("r2"));
    }
}

// A budget int16 outputs cannot reach (the int8 weights' error is left): from every unit in
// int16, units move to float until it holds, and int16 units the result does not need go back.
TEST(MixedPrecision, Int16FallingShortMovesUnitsToFloatOnTop) {
  const Fixture f;
  QuantizeOptions base;
  base.int16_thresholds = testing::max_abs_thresholds(f.g, f.s);
  QuantizeOptions all16 = base;
  all16.int16_outputs = {"c1", "c2", "c3", "c4", "add"};
  const double wide = f.cosine(all16);
  ASSERT_LT(wide, 1.0);
  const double budget = wide + (1.0 - wide) / 2;
  auto fit = fit_accuracy_budget(f.g, f.g, f.t, base, budget, f.scorer, f.unit_scorer, {.threads = 2});
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  EXPECT_TRUE(fit->int16_fell_short);
  EXPECT_TRUE(fit->met);
  EXPECT_FALSE(fit->moved.empty());
  EXPECT_GE(fit->after.cosine, budget);
  EXPECT_DOUBLE_EQ(f.cosine(fit->options), fit->after.cosine);
  for (const QuantUnit& u : fit->moved) EXPECT_FALSE(fit->options.int16_outputs.count(u.name)) << u.name;
  for (const QuantUnit& u : fit->widened) EXPECT_TRUE(fit->options.int16_outputs.count(u.name)) << u.name;
  // No int16 unit of the result can go back to 8 bits.
  for (const QuantUnit& u : fit->widened) {
    QuantizeOptions o = fit->options;
    o.int16_outputs.erase(u.name);
    EXPECT_LT(f.cosine(o), budget) << u.name << " was not needed";
  }
}

TEST(MixedPrecision, BudgetOutsideZeroToOneIsAnError) {
  const Fixture f;
  for (double b : {0.0, 1.0, -0.5, 1.5, std::nan("")}) {
    auto fit = fit_accuracy_budget(f.g, f.g, f.t, {}, b, f.scorer, f.unit_scorer);
    ASSERT_FALSE(fit.ok()) << b;
    EXPECT_NE(fit.status().message().find("(0, 1)"), std::string::npos) << fit.status().message();
  }
}

}  // namespace
}  // namespace qmap
