// Helpers shared by the calibration tests: building small graphs node by node and
// statistics of a plain vector of floats (what collect_statistics computes for one value).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "calib/statistics.h"
#include "ops/registry.h"
#include "passes/pass_test_util.h"

namespace qmap::calib_testing {

inline void add_node(Graph& g, const std::string& op, std::vector<ValueId> ins, std::vector<ValueId> outs,
                     std::map<std::string, AttrValue> attrs = {}) {
  Node n;
  n.name = op + "_" + std::to_string(g.nodes.size());
  n.op = *op_by_name(op);
  n.op_type = op;
  n.inputs = std::move(ins);
  n.outputs = std::move(outs);
  n.attrs = std::move(attrs);
  g.nodes.push_back(std::move(n));
}

// n fixed-seed uniform floats in [lo, hi).
inline std::vector<float> uniform_values(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// The statistics of one value whose elements over all samples are `x`.
inline ValueStats stats_of(const std::vector<float>& x) {
  RangeObserver r;
  r.observe(x);
  ValueStats s;
  s.min = r.min;
  s.max = r.max;
  s.abs_max = std::max(-r.min, r.max);
  s.count = r.count;
  HistogramObserver h(s.abs_max);
  h.observe(x);
  s.histogram = h.counts();
  return s;
}

// Five NPU units with a residual Add: conv 3x3 (3 -> 8) -> Relu -> conv 3x3 (8 -> 8) -> Relu
// -> conv 1x1 (8 -> 4) -> Add (with the first Relu's output through a 1x1 conv). Input 'x'
// [1, 3, 8, 8]; the values are named after their nodes (c1, r1, c2, r2, c3, c4, add); weights
// seeded from `seed` .. `seed + 4`.
inline Graph residual_network(uint32_t seed) {
  testing::GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 8, 8});
  const ValueId c1 =
      b.node("Conv", "c1", {x, b.random("w1", {8, 3, 3, 3}, seed), b.random("b1", {8}, seed + 1, -0.1f, 0.1f)},
             {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId r1 = b.node("Relu", "r1", {c1});
  const ValueId c2 = b.node("Conv", "c2", {r1, b.random("w2", {8, 8, 3, 3}, seed + 2)},
                            {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId r2 = b.node("Relu", "r2", {c2});
  const ValueId c3 = b.node("Conv", "c3", {r2, b.random("w3", {4, 8, 1, 1}, seed + 3)});
  const ValueId c4 = b.node("Conv", "c4", {r1, b.random("w4", {4, 8, 1, 1}, seed + 4)});
  const ValueId y = b.node("Add", "add", {c3, c4});
  return b.build({y});
}

}  // namespace qmap::calib_testing
