// y = Relu(a + b) * c over three 1x3x4x5 float inputs named a, b, c: the small multi-input
// featuremap model the makertbin and YAML-corpus end-to-end tests convert, written to `path`
// with the project's ONNX exporter.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "import/onnx/onnx_export.h"
#include "ir/graph.h"
#include "ops/registry.h"

namespace qmap::testing {

inline Status write_three_input_model(const std::string& name, const std::string& path) {
  Graph g;
  g.name = name;
  const Dims d{1, 3, 4, 5};
  const auto a = g.add_value("a", DType::kFloat32, d), b = g.add_value("b", DType::kFloat32, d),
             c = g.add_value("c", DType::kFloat32, d), s = g.add_value("s", DType::kFloat32, d),
             r = g.add_value("r", DType::kFloat32, d), y = g.add_value("y", DType::kFloat32, d);
  g.inputs = {a, b, c};
  g.outputs = {y};
  const auto node = [&](const char* node_name, const char* op, std::vector<ValueId> in, ValueId out) {
    Node n;
    n.name = node_name;
    n.op_type = op;
    n.op = *op_by_name(op);
    n.inputs = std::move(in);
    n.outputs = {out};
    g.nodes.push_back(n);
  };
  node("add", "Add", {a, b}, s);
  node("relu", "Relu", {s}, r);
  node("mul", "Mul", {r, c}, y);
  g.rebuild_producers();
  return export_onnx(g, path);
}

}  // namespace qmap::testing
