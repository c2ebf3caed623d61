// Test-only helpers for the elementwise family's op tests (header only; included by
// *_test.cpp files): npu_params of one node, an upgrade hook on a one-node graph, and
// message matching.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ops/registry.h"
#include "test_util.h"

namespace qmap::testing {

// Runs infer then npu_params for `op` on the given inputs (values known, as constants).
inline OpParams npu_params_of(const std::string& op, const std::vector<const Tensor*>& inputs,
                              std::map<std::string, AttrValue> attrs = {}) {
  const OpDef& def = op_def(*op_by_name(op));
  Node node;
  node.name = "n";
  node.op_type = op;
  node.attrs = std::move(attrs);
  std::vector<TensorInfo> infos;
  for (const Tensor* t : inputs) {
    TensorInfo ti;
    if (t) ti = {.present = true, .dtype = t->dtype(), .dims = t->dims(), .value = t};
    infos.push_back(ti);
  }
  InferCtx ctx(node, infos);
  EXPECT_TRUE(def.infer(ctx).ok());
  std::vector<std::optional<Dims>> outs;
  for (const auto& o : ctx.outputs()) outs.push_back(o.dims);
  OpParams params;
  if (def.npu_params) def.npu_params(ctx, outs, params);
  return params;
}

// The text / ints of parameter `name`, or "<absent>" / {}.
inline std::string param_text(const OpParams& p, const std::string& name) {
  for (const OpParam& q : p)
    if (q.name == name) return q.text;
  return "<absent>";
}
inline std::vector<int64_t> param_ints(const OpParams& p, const std::string& name) {
  for (const OpParam& q : p)
    if (q.name == name) return q.ints;
  return {};
}

// A graph holding one node of `op` with the given attributes, inputs made from `in_dims`
// (nullopt = unknown shape) and `num_outputs` outputs, as the ONNX importer would build it.
struct OneNodeGraph {
  Graph graph;
  std::vector<Node> nodes;
};
inline OneNodeGraph one_node_graph(const std::string& op, std::vector<std::optional<Dims>> in_dims,
                                   std::map<std::string, AttrValue> attrs, int num_outputs = 1) {
  OneNodeGraph g;
  Node n;
  n.name = "node";
  n.op = *op_by_name(op);
  n.op_type = op;
  n.attrs = std::move(attrs);
  for (size_t i = 0; i < in_dims.size(); ++i) {
    const ValueId v = g.graph.add_value("in" + std::to_string(i), DType::kFloat32, in_dims[i]);
    g.graph.inputs.push_back(v);
    n.inputs.push_back(v);
  }
  for (int i = 0; i < num_outputs; ++i) n.outputs.push_back(g.graph.add_value("out" + std::to_string(i)));
  g.nodes.push_back(std::move(n));
  return g;
}

inline std::string message_of(const Status& s) { return s.message(); }
template <typename T>
std::string message_of(const Result<T>& r) { return r.status().message(); }

// Assertion: the Status / Result failed and its message contains `needle`.
template <typename R>
::testing::AssertionResult fails_with(const R& r, const std::string& needle) {
  if (r.ok()) return ::testing::AssertionFailure() << "expected an error containing '" << needle << "'";
  const std::string m = message_of(r);
  if (m.find(needle) == std::string::npos)
    return ::testing::AssertionFailure() << "message '" << m << "' lacks '" << needle << "'";
  return ::testing::AssertionSuccess();
}

}  // namespace qmap::testing
