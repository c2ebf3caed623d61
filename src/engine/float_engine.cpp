#include "engine/float_engine.h"

#include <algorithm>

#include "kernels/f32/sgemm_blas.h"
#include "ops/registry.h"
#include "ops/verify.h"

namespace qmap {

namespace {

// Index in node n's inputs of a tensor whose buffer output 0 (dtype, dims) can take over
// (OpDef::in_place), or -1. The input must die at this node and appear only once among its
// inputs, and no other tensor may share its buffer (a caller's input, a constant, a kept
// value or a reshaped alias would see the write).
int reusable_input(const Node& n, size_t ni, const std::vector<int32_t>& last_use,
                   const std::vector<const Tensor*>& ins, DType dtype, const Dims& dims) {
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    const ValueId id = n.inputs[i];
    if (id == kNoValue || last_use[static_cast<size_t>(id)] != static_cast<int32_t>(ni)) continue;
    if (std::count(n.inputs.begin(), n.inputs.end(), id) != 1) continue;
    const Tensor& t = *ins[i];
    if (t.dtype() == dtype && t.dims() == dims && t.sole_owner()) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

Result<FloatEngine> FloatEngine::create(const Graph& graph, FloatEngineOptions options) {
  QMAP_RETURN_IF_ERROR(verify_graph(graph).with_context("float engine: "));
  FloatEngine e;
  e.graph_ = graph;
  e.options_ = options;
  e.last_use_.assign(graph.values.size(), -1);
  for (size_t ni = 0; ni < graph.nodes.size(); ++ni)
    for (ValueId id : graph.nodes[ni].inputs)
      if (id != kNoValue) e.last_use_[static_cast<size_t>(id)] = static_cast<int32_t>(ni);
  for (ValueId id : graph.outputs) e.last_use_[static_cast<size_t>(id)] = static_cast<int32_t>(graph.nodes.size());
  return e;
}

Result<std::vector<Tensor>> FloatEngine::run(const std::vector<Tensor>& inputs) {
  const Graph& g = graph_;
  if (inputs.size() != g.inputs.size())
    return error("float engine: got {} inputs, the model has {}", inputs.size(), g.inputs.size());
  std::vector<Tensor> vals(g.values.size());
  for (size_t i = 0; i < g.values.size(); ++i)
    if (g.values[i].constant) vals[i] = *g.values[i].constant;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value& v = g.value(g.inputs[i]);
    const Tensor& t = inputs[i];
    if (t.dtype() != v.dtype)
      return error("float engine: input '{}' has type {}: the model expects {}", v.name, dtype_name(t.dtype()),
                   dtype_name(v.dtype));
    bool dims_ok = v.dims && v.dims->size() == t.dims().size();
    for (size_t d = 0; dims_ok && d < t.dims().size(); ++d)
      if ((*v.dims)[d] >= 0 && (*v.dims)[d] != t.dims()[d]) dims_ok = false;
    if (!dims_ok)
      return error("float engine: input '{}' has shape {}: the model expects {}", v.name, dims_str(t.dims()),
                   v.dims ? dims_str(*v.dims) : "?");
    vals[static_cast<size_t>(g.inputs[i])] = t;
  }
  all_values_.clear();
  std::vector<TensorInfo> infos;
  std::vector<const Tensor*> ins;
  for (size_t ni = 0; ni < g.nodes.size(); ++ni) {
    const Node& n = g.nodes[ni];
    bool folded = true;
    for (ValueId o : n.outputs)
      if (o != kNoValue && !g.value(o).constant) folded = false;
    if (!folded) {
      const OpDef& def = op_def(n.op);
      infos.clear();
      ins.clear();
      for (ValueId id : n.inputs) {
        const Tensor* t = id == kNoValue ? nullptr : &vals[static_cast<size_t>(id)];
        infos.push_back(tensor_info_of(t));
        ins.push_back(t);
      }
      // Shapes are re-inferred from the actual inputs: cheap, and it keeps data-dependent
      // shapes (Reshape with a computed shape) correct without a second code path.
      InferCtx ictx(n, infos);
      QMAP_RETURN_IF_ERROR(def.infer(ictx).with_context("float engine: "));
      std::vector<Tensor> outs;
      outs.reserve(n.outputs.size());
      for (size_t i = 0; i < n.outputs.size(); ++i) {
        const auto& o = ictx.outputs()[i];
        const int reuse =
            i == 0 && def.in_place ? reusable_input(n, ni, last_use_, ins, o.dtype, *o.dims) : -1;
        outs.push_back(reuse >= 0 ? *ins[static_cast<size_t>(reuse)]
                                  : Tensor::uninitialized(o.dtype, *o.dims));
      }
      EvalCtx ectx{n, ins, outs};
      ectx.sgemm = kernels::f32::sgemm_blas;  // the toolchain's float reference: OpenBLAS
      QMAP_RETURN_IF_ERROR(def.eval(ectx).with_context("float engine: "));
      for (size_t i = 0; i < n.outputs.size(); ++i)
        if (n.outputs[i] != kNoValue) vals[static_cast<size_t>(n.outputs[i])] = std::move(outs[i]);
    }
    if (options_.keep_all_values) {
      for (ValueId o : n.outputs)
        if (o != kNoValue) all_values_[g.value(o).name] = vals[static_cast<size_t>(o)];
    } else {
      for (ValueId id : n.inputs)
        if (id != kNoValue && last_use_[static_cast<size_t>(id)] == static_cast<int32_t>(ni) && !g.value(id).constant)
          vals[static_cast<size_t>(id)] = Tensor();
    }
  }
  std::vector<Tensor> result;
  for (ValueId id : g.outputs) result.push_back(vals[static_cast<size_t>(id)]);
  return result;
}

}  // namespace qmap
