// fold_constants: nodes computable at conversion time become initializers (passes.h).
#include "kernels/f32/sgemm_blas.h"
#include "ops/registry.h"
#include "passes/passes.h"

namespace qmap {

namespace {

bool inputs_constant(const Graph& g, const Node& n) {
  for (ValueId i : n.inputs)
    if (i != kNoValue && constant_of(g, i) == nullptr) return false;
  return true;
}

bool outputs_known(const Graph& g, const Node& n) {
  for (ValueId o : n.outputs)
    if (o != kNoValue && constant_of(g, o) == nullptr) return false;
  return true;
}

// Runs node `n` on its constant inputs with the op's float/integer reference kernel.
Result<std::vector<Tensor>> evaluate(const Graph& g, const Node& n) {
  const OpDef& def = op_def(n.op);
  const std::vector<TensorInfo> infos = input_infos(g, n);
  InferCtx ictx(n, infos);
  QMAP_RETURN_IF_ERROR(def.infer(ictx));
  std::vector<const Tensor*> ins;
  for (ValueId i : n.inputs) ins.push_back(constant_of(g, i));
  std::vector<Tensor> outs;
  for (size_t k = 0; k < n.outputs.size(); ++k) {
    const auto& o = ictx.outputs().at(k);
    if (!o.dims) return error("{}: output {} has an unknown shape", node_label(n), k);
    outs.push_back(Tensor::uninitialized(o.dtype, *o.dims));
  }
  EvalCtx ectx{n, ins, outs};
  ectx.sgemm = kernels::f32::sgemm_blas;  // toolchain folding: the float engine's GEMM
  QMAP_RETURN_IF_ERROR(def.eval(ectx));
  return outs;
}

}  // namespace

Status fold_constants(Graph& g, PassLog* log) {
  for (size_t i = 0; i < g.nodes.size();) {
    const Node& n = g.nodes[i];
    bool produces_output = false;
    for (ValueId o : n.outputs) produces_output = produces_output || (o != kNoValue && is_graph_output(g, o));
    // Shape of a static tensor is known although its input is not: outputs_known covers it.
    if (produces_output || !(inputs_constant(g, n) || outputs_known(g, n))) {
      ++i;
      continue;
    }
    std::vector<Tensor> outs;
    if (outputs_known(g, n)) {
      for (ValueId o : n.outputs) outs.push_back(o == kNoValue ? Tensor() : *constant_of(g, o));
    } else {
      Result<std::vector<Tensor>> r = evaluate(g, n);
      if (!r.ok()) return r.status().with_context("fold_constants: ");
      outs = std::move(r).value();
    }
    std::vector<std::string> names;
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      if (n.outputs[k] == kNoValue) continue;
      Value& v = g.value(n.outputs[k]);
      v.constant = std::move(outs[k]);
      v.is_initializer = true;
      names.push_back("'" + v.name + "'");
    }
    log_rewrite(log, fmt::format("fold_constants: {} folded into constant {}", node_label(n),
                                 fmt::join(names, ", ")));
    erase_node(g, i);
  }
  return finish_pass(g);
}

}  // namespace qmap
