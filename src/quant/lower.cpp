// Lowering of a QDQ graph to an IntProgram (see lower.h for the patterns).
#include "quant/lower.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "ops/custom/custom_op.h"
#include "ops/infer.h"
#include "ops/registry.h"
#include "ops/verify.h"
#include "quant/lowerer.h"

namespace qmap {
namespace lowering {

using kernels::ref::q_max;
using kernels::ref::q_min;

int32_t quantize_value(float v, TensorQuant q, bool is_signed, bool wide) {
  int16_t slot = 0;  // room for an int16 code
  kernels::ref::quantize(std::span<const float>(&v, 1), q.scale, q.zero_point, {&slot, is_signed, wide});
  return kernels::ref::Q8In{&slot, is_signed, wide}[0];
}

namespace {

// The family lowering an op names (OpDef::lowering), from src/steps/step_list.def.
Result<bool> lower_family(Int8Lowering family, Lowerer& L, size_t ni) {
  switch (family) {
#define QMAP_STEP_FAMILY(Lowering, folder, label) \
  case Int8Lowering::k##Lowering: return lower_##folder(L, ni);
#define QMAP_STEP(Kind, name, id, Params)
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY
  }
  return false;
}

}  // namespace

std::optional<QParams> Lowerer::qparams(const Node& n) const {
  const Tensor* s = n.inputs.size() > 1 ? constant(n.inputs[1]) : nullptr;
  if (s == nullptr || s->dtype() != DType::kFloat32 || s->numel() == 0) return std::nullopt;
  const Tensor* z = n.inputs.size() > 2 ? constant(n.inputs[2]) : nullptr;
  if (n.inputs.size() > 2 && n.inputs[2] != kNoValue && z == nullptr) return std::nullopt;
  QParams q;
  auto sv = s->data<float>();
  q.scales.assign(sv.begin(), sv.end());
  if (z != nullptr) {
    if (z->numel() != s->numel()) return std::nullopt;
    for (int64_t v : z->to_int64()) q.zps.push_back(static_cast<int32_t>(v));
  } else {
    q.zps.assign(q.scales.size(), 0);
  }
  q.qtype = n.op == OpId::QuantizeLinear ? g_.value(n.outputs[0]).dtype : g_.value(n.inputs[0]).dtype;
  q.axis = attr_int(n, "axis", 1);
  const auto& dims = g_.value(n.inputs[0]).dims;
  if (q.axis < 0 && dims) q.axis += static_cast<int64_t>(dims->size());  // -1 names the last axis
  return q;
}

int32_t Lowerer::add_tensor(ValueId v) {
  int32_t& t = tensor_of_[static_cast<size_t>(v)];
  if (t >= 0) return t;
  const Value& val = g_.value(v);
  ProgramTensor pt{val.name, val.dtype, val.dims.value_or(Dims{}), std::nullopt, val.constant};
  t = static_cast<int32_t>(p_.tensors.size());
  p_.tensors.push_back(std::move(pt));
  return t;
}

int32_t Lowerer::add_constant_tensor(std::string name, Tensor c) {
  ProgramTensor pt{std::move(name), c.dtype(), c.dims(), std::nullopt, c};
  p_.tensors.push_back(std::move(pt));
  return static_cast<int32_t>(p_.tensors.size() - 1);
}

Step Lowerer::new_step(StepKind kind, const Node& n) const {
  Step s;
  s.kind = kind;
  s.params = default_step_params(kind);
  s.node = n.name;
  s.op = n.op;
  s.op_type = n.op_type;
  if (auto* op = std::get_if<GenericParams>(&s.params)) {
    op->attrs = n.attrs;
    if (n.custom) {
      op->domain = n.domain;
      op->custom_version = n.custom->version;
      op->custom_library = n.custom->library_name;
      op->custom = n.custom;
    }
  }
  return s;
}

std::optional<IntSrc> Lowerer::int_source(ValueId v, bool allow_wide) {
  if (v == kNoValue) return std::nullopt;
  const Node* dq = producer(v);
  if (dq == nullptr || dq->op != OpId::DequantizeLinear) return std::nullopt;
  auto qp = qparams(*dq);
  if (!qp || !qp->per_tensor()) return std::nullopt;
  const bool wide = qp->qtype == DType::kInt16;
  if (!is_8bit(qp->qtype) && !(wide && allow_wide && qp->zero_points_zero())) return std::nullopt;
  const ValueId u = dq->inputs[0];
  if (tensor_of_[static_cast<size_t>(u)] < 0 && !constant(u)) return std::nullopt;  // not computed yet
  const int32_t t = add_tensor(u);
  ProgramTensor& pt = p_.tensors[static_cast<size_t>(t)];
  // The tensor's quantization is how integer steps read it: its Q's parameters, or those of
  // the first DequantizeLinear reading it. A reader with other parameters is not matched.
  if (!pt.quant) pt.quant = qp->quant();
  if (!same_quant(*pt.quant, qp->quant())) return std::nullopt;
  return IntSrc{t, *pt.quant, qp->qtype != DType::kUInt8, wide};
}

std::optional<OutChain> Lowerer::out_chain(ValueId v, bool allow_act, bool allow_float_out, bool allow_wide) const {
  auto single_reader = [&](ValueId x) -> std::optional<size_t> {
    const auto& cs = consumers_[static_cast<size_t>(x)];
    if (is_output_[static_cast<size_t>(x)] || cs.size() != 1 || done_[cs[0]]) return std::nullopt;
    return cs[0];
  };
  OutChain c;
  c.last = v;
  if (allow_act) {
    if (auto a = single_reader(v)) {
      const Node& n = g_.nodes[*a];
      bool ok = n.op == OpId::Relu;
      if (n.op == OpId::Clip) {
        ok = true;
        for (size_t i = 1; i < n.inputs.size() && ok; ++i) {
          if (n.inputs[i] == kNoValue) continue;
          const Tensor* b = constant(n.inputs[i]);
          if (b == nullptr || b->dtype() != DType::kFloat32 || b->numel() != 1) ok = false;
          else (i == 1 ? c.act_min : c.act_max) = b->data<float>()[0];
        }
      } else if (ok) {
        c.act_min = 0.f;
      }
      if (ok) {
        c.act = static_cast<int>(*a);
        c.last = n.outputs[0];
      }
    }
  }
  if (auto q = single_reader(c.last)) {
    const Node& n = g_.nodes[*q];
    if (n.op == OpId::QuantizeLinear) {
      auto qp = qparams(n);
      if (qp && qp->per_tensor() &&
          (is_8bit(qp->qtype) || (allow_wide && qp->qtype == DType::kInt16 && qp->zero_points_zero()))) {
        c.q = static_cast<int>(*q);
        c.qp = *qp;
        return c;
      }
    }
  }
  if (allow_float_out && is_output_[static_cast<size_t>(c.last)] &&
      consumers_[static_cast<size_t>(c.last)].empty())
    return c;
  return std::nullopt;
}

// Marks the chain's nodes done and returns the step's output tensor (the Q output, or the
// graph output for high precision). `first` is the compute node's own output.
int32_t Lowerer::finish_chain(const OutChain& c, ValueId first, Step& s) {
  if (c.act >= 0) done_[static_cast<size_t>(c.act)] = true;
  if (c.last != first) absorbed_.insert(first);
  if (c.q < 0) {
    const int32_t t = add_tensor(c.last);
    s.outputs.push_back(t);
    return t;
  }
  done_[static_cast<size_t>(c.q)] = true;
  absorbed_.insert(c.last);
  const int32_t t = add_tensor(g_.nodes[static_cast<size_t>(c.q)].outputs[0]);
  p_.tensors[static_cast<size_t>(t)].quant = c.qp.quant();
  s.outputs.push_back(t);
  return t;
}

// Appends a matched pattern's step: node ni and its output chains (one per node output) are
// done; the node's DequantizeLinear inputs are read as 8-bit tensors (reported as aliases
// unless some float step needs them computed).
bool Lowerer::emit_pattern(size_t ni, Step s, const std::vector<OutChain>& chains) {
  const Node& n = g_.nodes[ni];
  for (ValueId v : n.inputs) {
    const Node* p = v == kNoValue ? nullptr : producer(v);
    if (p && p->op == OpId::DequantizeLinear) absorbed_.insert(v);
  }
  for (size_t i = 0; i < chains.size(); ++i) finish_chain(chains[i], n.outputs[i], s);
  done_[ni] = true;
  p_.steps.push_back(std::move(s));
  return true;
}

// lo/hi of the 8-bit output: the type's range narrowed by a fused Relu/Clip. Quantization
// is monotone, so Q(clamp(v, min, max)) = clamp(Q(v), Q(min), Q(max)).
void Lowerer::clamp_range(const OutChain& c, int32_t& lo, int32_t& hi) const {
  const bool sg = c.qp.qtype != DType::kUInt8, wide = c.qp.qtype == DType::kInt16;
  lo = std::max(q_min(sg, wide), quantize_value(c.act_min, c.qp.quant(), sg, wide));
  hi = std::min(q_max(sg, wide), quantize_value(c.act_max, c.qp.quant(), sg, wide));
}

Status Lowerer::materialize(ValueId v) {
  if (v == kNoValue || tensor_of_[static_cast<size_t>(v)] >= 0) return ok_status();
  const Value& val = g_.value(v);
  if (val.constant || val.producer < 0) {
    add_tensor(v);
    return ok_status();
  }
  const size_t pi = static_cast<size_t>(val.producer);
  const Node& n = g_.nodes[pi];
  QMAP_CHECK(n.op == OpId::DequantizeLinear && !done_[pi], "lower: value '{}' needed but absorbed", val.name);
  done_[pi] = true;
  if (auto src = int_source(v, true); src && !constant(n.inputs[0])) {
    Step s = new_step(StepKind::kDequantize, n);
    s.inputs = {src->tensor};
    s.outputs = {add_tensor(v)};
    p_.steps.push_back(std::move(s));
    return ok_status();
  }
  return emit_float(pi);
}

Status Lowerer::emit_float(size_t ni) {
  const Node& n = g_.nodes[ni];
  done_[ni] = true;
  Step s = new_step(StepKind::kFloat, n);
  for (ValueId v : n.inputs) {
    QMAP_RETURN_IF_ERROR(materialize(v));
    s.inputs.push_back(v == kNoValue ? -1 : tensor_of_[static_cast<size_t>(v)]);
  }
  for (ValueId v : n.outputs) s.outputs.push_back(v == kNoValue ? -1 : add_tensor(v));
  p_.steps.push_back(std::move(s));
  return ok_status();
}

void Lowerer::emit_step(size_t ni, Step s) {
  done_[ni] = true;
  p_.steps.push_back(std::move(s));
}

Result<IntProgram> Lowerer::run() {
  const size_t nv = g_.values.size();
  consumers_.assign(nv, {});
  is_output_.assign(nv, false);
  tensor_of_.assign(nv, -1);
  done_.assign(g_.nodes.size(), false);
  for (size_t ni = 0; ni < g_.nodes.size(); ++ni) {
    const Node& n = g_.nodes[ni];
    for (ValueId v : n.inputs)
      if (v != kNoValue) consumers_[static_cast<size_t>(v)].push_back(ni);
    // Integer steps divide by scales: reject unusable ones here, naming the node.
    if (n.op == OpId::QuantizeLinear || n.op == OpId::DequantizeLinear) {
      if (auto qp = qparams(n))
        for (float sc : qp->scales)
          if (!(sc > 0.f) || !std::isfinite(sc))
            return error("lower: {} '{}': scale {} is not usable: scales must be positive and finite",
                         n.op_type, n.name, sc);
    }
  }
  for (ValueId v : g_.outputs) is_output_[static_cast<size_t>(v)] = true;
  for (ValueId v : g_.inputs) p_.inputs.push_back(add_tensor(v));

  for (size_t ni = 0; ni < g_.nodes.size(); ++ni) {
    if (done_[ni]) continue;
    const Node& n = g_.nodes[ni];
    // Shape inference folded it (constant inputs only, e.g. Identity of an initializer): its
    // outputs are constant tensors, nothing runs.
    bool folded = true;
    for (ValueId o : n.outputs)
      if (o != kNoValue && !g_.value(o).constant) folded = false;
    if (folded) {
      done_[ni] = true;
      continue;
    }
    QMAP_ASSIGN_OR_RETURN(const bool lowered, lower_family(op_def(n.op).lowering, *this, ni));
    if (!lowered) QMAP_RETURN_IF_ERROR(emit_float(ni));
  }
  for (ValueId v : g_.outputs) {
    QMAP_RETURN_IF_ERROR(materialize(v));
    p_.outputs.push_back(tensor_of_[static_cast<size_t>(v)]);
  }
  // Absorbed values never computed on their own: report the tensor that stands for them.
  for (ValueId v : absorbed_) {
    if (tensor_of_[static_cast<size_t>(v)] >= 0) continue;
    const Node* p = producer(v);
    ValueId stand_in = kNoValue;
    if (p && p->op == OpId::DequantizeLinear) stand_in = p->inputs[0];  // exact: DQ of that tensor
    for (size_t ni : consumers_[static_cast<size_t>(v)]) {  // the pattern's Q or Relu output
      const Node& c = g_.nodes[ni];
      if (stand_in == kNoValue && c.op == OpId::QuantizeLinear) stand_in = c.outputs[0];
    }
    if (stand_in == kNoValue) {  // Conv output -> Relu -> Q: two hops
      for (size_t ni : consumers_[static_cast<size_t>(v)])
        for (size_t nj : consumers_[static_cast<size_t>(g_.nodes[ni].outputs[0])])
          if (g_.nodes[nj].op == OpId::QuantizeLinear) stand_in = g_.nodes[nj].outputs[0];
    }
    if (stand_in != kNoValue && tensor_of_[static_cast<size_t>(stand_in)] >= 0)
      p_.aliases[g_.value(v).name] = tensor_of_[static_cast<size_t>(stand_in)];
  }
  return std::move(p_);
}

}  // namespace lowering

Result<IntProgram> lower_qdq_graph(const Graph& qdq) {
  Graph g = qdq;
  QMAP_RETURN_IF_ERROR(verify_graph(g).with_context("lower: "));
  QMAP_RETURN_IF_ERROR(infer_shapes(g, true).with_context("lower: "));
  g.rebuild_producers();
  return lowering::Lowerer(std::move(g)).run();
}

}  // namespace qmap
