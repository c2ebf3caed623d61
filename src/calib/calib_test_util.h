// Helpers shared by the calibration tests: building small graphs node by node and
// statistics of a plain vector of floats (what collect_statistics computes for one value).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "calib/statistics.h"
#include "ops/registry.h"

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

}  // namespace qmap::calib_testing
