// The float reference engine: executes an IR graph node by node with each op's `eval`.
// It runs in the toolchain (calibration, constant folding, comparisons), never on device.
// Intermediate tensors are released after their last use unless keep_all_values is set.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

struct FloatEngineOptions {
  bool keep_all_values = false;  // keep every node output (per-node comparisons, dumps)
};

class FloatEngine {
 public:
  // Checks that the graph is complete (every op has an eval) and plans tensor lifetimes.
  // The graph is copied; the engine does not refer to the caller's graph afterwards.
  static Result<FloatEngine> create(const Graph& graph, FloatEngineOptions options = {});

  // inputs: one tensor per graph input, in Graph::inputs order. Dtypes must match; dims must
  // match wherever the graph input's dim is static. Returns the graph outputs in order.
  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs);

  // After run() with keep_all_values: every value computed, by value name.
  const std::map<std::string, Tensor>& all_values() const { return all_values_; }
  const Graph& graph() const { return graph_; }

 private:
  FloatEngine() = default;
  Graph graph_;
  FloatEngineOptions options_;
  std::vector<int32_t> last_use_;  // per value: index of the last node reading it
  std::map<std::string, Tensor> all_values_;
};

}  // namespace qmap
