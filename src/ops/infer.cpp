#include "ops/infer.h"

#include "core/limits.h"
#include "kernels/f32/sgemm_blas.h"
#include "ops/registry.h"

namespace qmap {

namespace {

// Folding is meant for shape arithmetic (Shape -> Gather -> Concat -> Reshape chains), not
// for weights: outputs larger than this stay computed at run time.
constexpr int64_t kMaxFoldElements = 4096;

// Evaluates a node whose inputs are all known, so later shape computations see the result.
Status fold_node(Graph& g, const Node& n, const OpDef& def, const InferCtx& ictx) {
  std::vector<const Tensor*> ins;
  for (ValueId id : n.inputs) ins.push_back(id == kNoValue ? nullptr : &*g.value(id).constant);
  std::vector<Tensor> outs;
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    const auto& o = ictx.outputs()[i];
    outs.emplace_back(o.dtype, *o.dims);
  }
  EvalCtx ectx{n, ins, outs};
  ectx.sgemm = kernels::f32::sgemm_blas;  // toolchain folding: the float engine's GEMM
  QMAP_RETURN_IF_ERROR(def.eval(ectx));
  for (size_t i = 0; i < n.outputs.size(); ++i)
    if (n.outputs[i] != kNoValue) g.value(n.outputs[i]).constant = std::move(outs[i]);
  return ok_status();
}

}  // namespace

// Shape inference refuses tensors over core/limits.h's kMaxTensorElements.
namespace {

// Elements of `dims` (unknown dims, negative, count as 1), or -1 past kMaxTensorElements.
int64_t bounded_elements(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d <= 0) {
      if (d == 0) return 0;
      continue;
    }
    if (__builtin_mul_overflow(n, d, &n) || n > kMaxTensorElements) return -1;
  }
  return n;
}

Status check_size(const Node& n, const char* what, size_t i, const std::optional<Dims>& dims) {
  if (!dims || bounded_elements(*dims) >= 0) return ok_status();
  return error("shape inference: {} '{}': {} {} has shape {}: more than 2^29 elements, over qmap's limit for one "
               "tensor",
               n.op_type, n.name, what, i, dims_str(*dims));
}
}  // namespace

Status infer_node(Graph& g, size_t ni) {
  const Node& n = g.nodes[ni];
  const OpDef& def = op_def(n.op);
  const std::vector<TensorInfo> infos = input_infos(g, n);
  for (size_t i = 0; i < infos.size(); ++i)
    if (infos[i].present) QMAP_RETURN_IF_ERROR(check_size(n, "input", i, infos[i].dims));
  InferCtx ctx(n, infos);
  QMAP_RETURN_IF_ERROR(def.infer(ctx).with_context("shape inference: "));
  if (ctx.outputs().size() < n.outputs.size())
    return error("shape inference: {} '{}': op infers {} outputs but the node has {}", n.op_type, n.name,
                 ctx.outputs().size(), n.outputs.size());
  for (size_t i = 0; i < n.outputs.size(); ++i)
    if (n.outputs[i] != kNoValue) QMAP_RETURN_IF_ERROR(check_size(n, "output", i, ctx.outputs()[i].dims));
  bool all_known = true;
  bool small = true;
  for (size_t i = 0; i < n.outputs.size(); ++i) {
    if (n.outputs[i] == kNoValue) continue;
    auto& out = ctx.outputs()[i];
    Value& v = g.value(n.outputs[i]);
    v.dtype = out.dtype;
    v.dims = out.dims;
    if (out.value) v.constant = std::move(*out.value);
    if (!out.dims) all_known = false;
    else if (num_elements(*out.dims) > kMaxFoldElements) small = false;
  }
  bool inputs_known = !n.inputs.empty();
  for (const TensorInfo& ti : infos)
    if (ti.present && ti.value == nullptr) inputs_known = false;
  bool already = true;
  for (ValueId o : n.outputs)
    if (o != kNoValue && !g.value(o).constant) already = false;
  if (inputs_known && all_known && small && !already)
    QMAP_RETURN_IF_ERROR(fold_node(g, n, def, ctx).with_context("shape inference: "));
  return ok_status();
}

Status infer_shapes(Graph& g, bool require_static) {
  for (size_t ni = 0; ni < g.nodes.size(); ++ni) QMAP_RETURN_IF_ERROR(infer_node(g, ni));
  // A static toolchain needs every shape: name the first value left unknown and why.
  for (const Node& n : g.nodes) {
    if (!require_static) break;
    for (ValueId o : n.outputs) {
      if (o == kNoValue || g.value(o).dims) continue;
      std::string why = "a shape it depends on is only known at run time";
      for (size_t i = 0; i < n.inputs.size(); ++i) {
        const ValueId id = n.inputs[i];
        if (id == kNoValue) continue;
        if (!g.value(id).dims) { why = fmt::format("the shape of its input '{}' is unknown", g.value(id).name); break; }
      }
      return error("shape inference: {} '{}': cannot determine the shape of output '{}': {}; qmap needs static shapes",
                   n.op_type, n.name, g.value(o).name, why);
    }
  }
  return ok_status();
}

}  // namespace qmap
