// Test-only helpers for the tensor-family op tests (header-only: included by *_test.cpp only).
// They complement tests/test_util.h: running infer alone on partly known inputs (unknown
// values or dims), running an op whose output count comes from the node (Split), and
// running an op's upgrade_onnx hook on a one-node graph.
#pragma once

#include <string>
#include <vector>

#include "kernels/f32/sgemm_blas.h"
#include "ops/registry.h"
#include "test_util.h"

namespace qmap::testing {

// A known tensor as inference input.
inline TensorInfo known(const Tensor& t) { return {true, t.dtype(), t.dims(), &t}; }
// An input whose dtype and (optionally) dims are known but whose value is not.
inline TensorInfo unknown(DType dt, std::optional<Dims> dims) { return {true, dt, std::move(dims), nullptr}; }
inline TensorInfo absent() { return {}; }

inline Node make_node(const std::string& op, std::map<std::string, AttrValue> attrs, int num_outputs) {
  Node n;
  n.name = "test_" + op;
  n.op = *op_by_name(op);
  n.op_type = op;
  n.attrs = std::move(attrs);
  for (int i = 0; i < num_outputs; ++i) n.outputs.push_back(i);  // placeholders: only the count matters
  return n;
}

// Runs infer only; returns the inferred outputs or the error.
inline Result<std::vector<InferCtx::Output>> infer_op(const std::string& op, const std::vector<TensorInfo>& inputs,
                                                      std::map<std::string, AttrValue> attrs = {},
                                                      int num_outputs = 1) {
  Node n = make_node(op, std::move(attrs), num_outputs);
  InferCtx ctx(n, inputs);
  QMAP_RETURN_IF_ERROR(op_def(n.op).infer(ctx));
  return ctx.outputs();
}

// Like run_op, but the node lists `num_outputs` outputs (ops whose output count is the node's).
inline Result<std::vector<Tensor>> run_op_n(const std::string& op, const std::vector<const Tensor*>& inputs,
                                            std::map<std::string, AttrValue> attrs, int num_outputs) {
  Node n = make_node(op, std::move(attrs), num_outputs);
  std::vector<TensorInfo> infos;
  for (const Tensor* t : inputs) infos.push_back(t ? known(*t) : absent());
  InferCtx ictx(n, infos);
  QMAP_RETURN_IF_ERROR(op_def(n.op).infer(ictx));
  std::vector<Tensor> outs;
  for (const auto& o : ictx.outputs()) {
    if (!o.dims) return error("output shape unknown");
    outs.emplace_back(o.dtype, *o.dims);
  }
  EvalCtx ectx{n, inputs, outs};
  ectx.sgemm = kernels::f32::sgemm_blas;  // as the float engine runs ops
  QMAP_RETURN_IF_ERROR(op_def(n.op).eval(ectx));
  return outs;
}

// A graph holding one node of `op_type` (as imported from ONNX, before the upgrade) whose
// inputs are graph inputs named x0, x1, ... (or constants where `consts` gives a tensor).
struct UpgradeCase {
  Graph graph;
  std::vector<Node> nodes;
};
inline UpgradeCase upgrade_case(const std::string& ir_op, const std::string& op_type, int num_inputs,
                                std::map<std::string, AttrValue> attrs,
                                std::map<int, Tensor> consts = {}) {
  UpgradeCase c;
  Node n;
  n.name = "n0";
  n.op = *op_by_name(ir_op);
  n.op_type = op_type;
  n.attrs = std::move(attrs);
  for (int i = 0; i < num_inputs; ++i) {
    const std::string name = fmt::format("x{}", i);
    n.inputs.push_back(consts.count(i) ? c.graph.add_constant(name, consts.at(i))
                                       : c.graph.add_value(name, DType::kFloat32));
  }
  n.outputs.push_back(c.graph.add_value("y"));
  c.nodes.push_back(std::move(n));
  return c;
}

// The constant behind input i of the upgraded node (fails the test if there is none).
inline const Tensor& input_constant(const UpgradeCase& c, size_t i) {
  const Node& n = c.nodes.at(0);
  QMAP_CHECK(i < n.inputs.size() && n.inputs[i] != kNoValue && c.graph.value(n.inputs[i]).constant,
             "input {} has no constant", i);
  return *c.graph.value(n.inputs[i]).constant;
}

// The npu_params an op reports for the given inputs and inferred output dims.
inline OpParams npu_params_of(const std::string& op, std::map<std::string, AttrValue> attrs,
                              const std::vector<TensorInfo>& inputs, std::optional<Dims> out_dims) {
  Node n = make_node(op, std::move(attrs), 1);
  InferCtx ctx(n, inputs);
  std::vector<std::optional<Dims>> outs{std::move(out_dims)};
  OpParams p;
  op_def(n.op).npu_params(ctx, outs, p);
  return p;
}

inline bool has_text(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

}  // namespace qmap::testing
