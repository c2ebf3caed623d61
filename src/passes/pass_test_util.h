// Helpers for the pass tests (header only: test code, not part of the library): building
// small graphs by hand, and the two checks every pass test makes — the structure after the
// pass and unchanged float numerics.
#pragma once

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/float_engine.h"
#include "ops/dump.h"
#include "ops/infer.h"
#include "ops/verify.h"
#include "passes/graph_edit.h"
#include "test_util.h"

namespace qmap::testing {

// Builds a graph node by node; each node's output value is named after the node.
struct GraphBuilder {
  Graph g;

  ValueId input(const std::string& name, Dims dims, DType dtype = DType::kFloat32) {
    const ValueId id = g.add_value(name, dtype, std::move(dims));
    g.inputs.push_back(id);
    return id;
  }
  ValueId constant(const std::string& name, Tensor t) { return g.add_constant(name, std::move(t)); }
  // Seeded uniform random float32 initializer.
  ValueId random(const std::string& name, Dims dims, uint32_t seed, float lo = -1.f, float hi = 1.f) {
    return constant(name, random_tensor(std::move(dims), seed, lo, hi));
  }
  ValueId node(const std::string& op, const std::string& name, std::vector<ValueId> inputs,
               std::map<std::string, AttrValue> attrs = {}) {
    const ValueId out = g.add_value(name);
    g.nodes.push_back(make_node(op, name, std::move(inputs), {out}, std::move(attrs)));
    return out;
  }
  // BatchNormalization with seeded per-channel parameters (scale in [0.5, 2), var in [0.1, 2)).
  ValueId batchnorm(const std::string& name, ValueId x, int64_t c, uint32_t seed) {
    return node("BatchNormalization", name,
                {x, random(name + "_scale", {c}, seed, 0.5f, 2.f), random(name + "_bias", {c}, seed + 1),
                 random(name + "_mean", {c}, seed + 2), random(name + "_var", {c}, seed + 3, 0.1f, 2.f)});
  }
  // Sets the outputs and infers shapes; the graph must be valid.
  Graph build(std::vector<ValueId> outputs) {
    g.outputs = std::move(outputs);
    g.rebuild_producers();
    const Status st = infer_shapes(g);
    QMAP_CHECK(st.ok(), "{}", st.message());
    QMAP_CHECK(verify_graph(g).ok(), "{}", verify_graph(g).message());
    return g;
  }
};

// Op names of the nodes in order, space separated ("Conv Relu Add").
inline std::string op_sequence(const Graph& g) {
  std::string s;
  for (const Node& n : g.nodes) s += (s.empty() ? "" : " ") + n.op_type;
  return s;
}

// One seeded random tensor per graph input: float32 uniform in [-1, 1) scaled by `range`,
// uint8 uniform over 0..255.
inline std::vector<Tensor> random_inputs(const Graph& g, uint32_t seed, float range = 1.f) {
  std::vector<Tensor> ins;
  for (ValueId id : g.inputs) {
    const Value& v = g.value(id);
    if (v.dtype == DType::kUInt8) {
      Tensor t(DType::kUInt8, *v.dims);
      std::mt19937 rng(seed++);
      for (uint8_t& e : t.data<uint8_t>()) e = static_cast<uint8_t>(rng() & 0xff);
      ins.push_back(t);
    } else {
      ins.push_back(random_tensor(*v.dims, seed++, -range, range));
    }
  }
  return ins;
}

// A copy of `g` after `pass`, which must succeed.
inline Graph run_pass(Status (*pass)(Graph&, PassLog*), const Graph& g, PassLog* log = nullptr) {
  Graph out = g;
  const Status st = pass(out, log);
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

// Runs `pass` on `g` and expects it to rewrite nothing: no log line, the ops as `ops` says.
inline void expect_untouched(Status (*pass)(Graph&, PassLog*), const Graph& g, const std::string& ops) {
  PassLog log;
  EXPECT_EQ(op_sequence(run_pass(pass, g, &log)), ops);
  EXPECT_TRUE(log.empty());
}

inline Result<std::vector<Tensor>> run_graph(const Graph& g, const std::vector<Tensor>& inputs) {
  QMAP_ASSIGN_OR_RETURN(FloatEngine e, FloatEngine::create(g));
  return e.run(inputs);
}

// `after` verifies, and on the same seeded random inputs gives every output of `before`
// within 1e-5 of that output's range (max - min): folding rounds parameters to float32 once,
// which moves results by a few float32 ulps of the largest magnitudes involved.
inline ::testing::AssertionResult same_numerics(const Graph& before, const Graph& after, uint32_t seed,
                                                float input_range = 1.f) {
  if (Status st = verify_graph(after); !st.ok()) return ::testing::AssertionFailure() << st.message();
  if (before.outputs.size() != after.outputs.size())
    return ::testing::AssertionFailure() << "output count changed: " << before.outputs.size() << " -> "
                                         << after.outputs.size();
  const std::vector<Tensor> ins = random_inputs(before, seed, input_range);
  auto expected = run_graph(before, ins);
  auto actual = run_graph(after, ins);
  if (!expected.ok()) return ::testing::AssertionFailure() << "before: " << expected.status().message();
  if (!actual.ok()) return ::testing::AssertionFailure() << "after: " << actual.status().message();
  for (size_t k = 0; k < expected->size(); ++k) {
    if (before.value(before.outputs[k]).name != after.value(after.outputs[k]).name)
      return ::testing::AssertionFailure() << "output " << k << " renamed";
    const std::vector<double> e = (*expected)[k].to_double();
    const auto [lo, hi] = std::minmax_element(e.begin(), e.end());
    const double tol = 1e-5 * std::max(*hi - *lo, 1e-3);
    auto r = tensors_near((*actual)[k], (*expected)[k], tol, 0.0);
    if (!r) return r << " (output " << k << ", seed " << seed << ")";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace qmap::testing
