// Test-only: seeded sample sets and max |value| thresholds of a float graph over them, for
// the tests that quantize a small network with thresholds from its real ranges (bias
// correction, adaptive rounding, mixed precision, cross-layer equalization), and the output
// error such a quantized network makes.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "calib/output_scorer.h"
#include "engine/float_engine.h"
#include "passes/pass_test_util.h"
#include "quant/quantize.h"

namespace qmap::testing {

// n single-input samples of shape `dims`, uniform in [lo, hi), seeds seed, seed + 1, ...
inline std::vector<std::vector<Tensor>> seeded_samples(const Dims& dims, uint32_t seed, int n, float lo, float hi) {
  std::vector<std::vector<Tensor>> out;
  for (int i = 0; i < n; ++i) out.push_back({random_tensor(dims, seed + static_cast<uint32_t>(i), lo, hi)});
  return out;
}

// max |v| of every float value (graph inputs included) over the samples: the `max` method.
inline std::map<std::string, float> max_abs_thresholds(const Graph& g, const std::vector<std::vector<Tensor>>& s) {
  auto fe = FloatEngine::create(g, {.keep_all_values = true});
  QMAP_CHECK(fe.ok(), "{}", fe.status().message());
  std::map<std::string, float> t;
  for (const auto& in : s) {
    QMAP_CHECK(fe->run(in).ok(), "float run");
    for (const auto& [name, v] : fe->all_values())
      if (v.dtype() == DType::kFloat32)
        for (float e : v.data<float>()) t[name] = std::max(t[name], std::fabs(e));
    for (size_t i = 0; i < g.inputs.size(); ++i)
      for (float e : in[i].data<float>())
        t[g.value(g.inputs[i]).name] = std::max(t[g.value(g.inputs[i]).name], std::fabs(e));
  }
  return t;
}

// Mean output MSE, against `float_graph` over the samples, of `to_quantize` quantized with
// thresholds `t` and options `o` (to_quantize is float_graph itself or a rewrite of it).
inline double quantized_output_mse(const Graph& float_graph, const Graph& to_quantize,
                                   const std::map<std::string, float>& t, const QuantizeOptions& o,
                                   const std::vector<std::vector<Tensor>>& s) {
  auto q = quantize_graph(to_quantize, t, o);
  QMAP_CHECK(q.ok(), "{}", q.status().message());
  auto scorer = OutputScorer::create(float_graph, s);
  QMAP_CHECK(scorer.ok(), "{}", scorer.status().message());
  auto r = scorer->score(q->graph);
  QMAP_CHECK(r.ok(), "{}", r.status().message());
  return r->mse;
}

}  // namespace qmap::testing
