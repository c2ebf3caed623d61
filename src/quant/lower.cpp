// Lowering of a QDQ graph to an IntProgram (see lower.h for the patterns).
#include "quant/lower.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "ops/common/conv_pool_window.h"
#include "ops/common/int8_rules.h"
#include "ops/custom/custom_op.h"
#include "ops/infer.h"
#include "ops/registry.h"
#include "ops/verify.h"
#include "quant/quantize_rules.h"

namespace qmap {
namespace {

using kernels::ref::q8_max;
using kernels::ref::q8_min;

bool is_8bit(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }

// Quantization parameters of one QuantizeLinear / DequantizeLinear node (constants only).
struct QParams {
  std::vector<float> scales;
  std::vector<int32_t> zps;  // same count as scales (0 when the zero point is absent)
  DType qtype = DType::kUndefined;  // the integer side's dtype
  int64_t axis = 1;
  bool per_tensor() const { return scales.size() == 1; }
  TensorQuant quant() const { return {scales[0], zps[0]}; }
  bool zero_points_zero() const {
    for (int32_t z : zps)
      if (z != 0) return false;
    return true;
  }
};

bool same_quant(const TensorQuant& a, const TensorQuant& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point;
}

// The 8-bit value QuantizeLinear gives float v (the kernels' quantize: the same rule).
int32_t quantize_value(float v, TensorQuant q, bool is_signed) {
  uint8_t byte = 0;
  kernels::ref::quantize(std::span<const float>(&v, 1), q.scale, q.zero_point, {&byte, is_signed});
  return kernels::ref::Q8In{&byte, is_signed}[0];
}

// An 8-bit tensor that an integer step can read in place of a DequantizeLinear output.
struct IntSrc {
  int32_t tensor = -1;
  TensorQuant q;
  bool is_signed = true;
};

// The nodes after a compute node's output that a pattern absorbs.
struct OutChain {
  int act = -1;  // fused Relu/Clip node
  float act_min = -std::numeric_limits<float>::infinity();
  float act_max = std::numeric_limits<float>::infinity();
  int q = -1;    // QuantizeLinear node; -1: `last` is a graph output (high precision)
  ValueId last = kNoValue;  // the float value entering Q, or the graph output
  QParams qp;
};

class Lowerer {
 public:
  explicit Lowerer(Graph g) : g_(std::move(g)) {}
  Result<IntProgram> run();

 private:
  const Node* producer(ValueId v) const {
    const int32_t p = g_.value(v).producer;
    return p < 0 ? nullptr : &g_.nodes[static_cast<size_t>(p)];
  }
  const Tensor* constant(ValueId v) const {
    if (v == kNoValue) return nullptr;
    const auto& c = g_.value(v).constant;
    return c ? &*c : nullptr;
  }
  std::optional<QParams> qparams(const Node& n) const;
  int32_t add_tensor(ValueId v);
  int32_t add_constant_tensor(std::string name, Tensor t);
  Status materialize(ValueId v);
  std::optional<IntSrc> int_source(ValueId v);
  std::optional<OutChain> out_chain(ValueId v, bool allow_act, bool allow_float_out) const;
  int32_t finish_chain(const OutChain& c, ValueId first, Step& s);
  bool emit_pattern(size_t ni, Step s, const std::vector<OutChain>& chains);
  void clamp_range(const OutChain& c, int32_t& lo, int32_t& hi) const;
  Step new_step(StepKind kind, const Node& n) const;
  Status emit_float(size_t ni);

  Result<bool> lower_matmul_like(size_t ni);
  Result<bool> lower_binary(size_t ni);
  Result<bool> lower_lut(size_t ni);
  Result<bool> lower_pool(size_t ni);
  Result<bool> lower_concat(size_t ni);
  Result<bool> lower_move(size_t ni);
  bool lower_quantize(size_t ni);

  const Graph g_;
  IntProgram p_;
  std::vector<std::vector<size_t>> consumers_;
  std::vector<bool> is_output_;
  std::vector<int32_t> tensor_of_;
  std::vector<bool> done_;
  std::set<ValueId> absorbed_;  // values a pattern made unnecessary (reported as aliases)
};

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

std::optional<IntSrc> Lowerer::int_source(ValueId v) {
  if (v == kNoValue) return std::nullopt;
  const Node* dq = producer(v);
  if (dq == nullptr || dq->op != OpId::DequantizeLinear) return std::nullopt;
  auto qp = qparams(*dq);
  if (!qp || !qp->per_tensor() || !is_8bit(qp->qtype)) return std::nullopt;
  const ValueId u = dq->inputs[0];
  if (tensor_of_[static_cast<size_t>(u)] < 0 && !constant(u)) return std::nullopt;  // not computed yet
  const int32_t t = add_tensor(u);
  ProgramTensor& pt = p_.tensors[static_cast<size_t>(t)];
  // The tensor's quantization is how integer steps read it: its Q's parameters, or those of
  // the first DequantizeLinear reading it. A reader with other parameters is not matched.
  if (!pt.quant) pt.quant = qp->quant();
  if (!same_quant(*pt.quant, qp->quant())) return std::nullopt;
  return IntSrc{t, *pt.quant, qp->qtype == DType::kInt8};
}

std::optional<OutChain> Lowerer::out_chain(ValueId v, bool allow_act, bool allow_float_out) const {
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
      if (qp && qp->per_tensor() && is_8bit(qp->qtype)) {
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
  const bool sg = c.qp.qtype == DType::kInt8;
  lo = std::max(q8_min(sg), quantize_value(c.act_min, c.qp.quant(), sg));
  hi = std::min(q8_max(sg), quantize_value(c.act_max, c.qp.quant(), sg));
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
  if (auto src = int_source(v); src && !constant(n.inputs[0])) {
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

// A constant int8 weight (or int32 bias) read through DequantizeLinear with zero point 0:
// its integer data and per-channel (or one) float32 scales.
struct QWeight {
  const Tensor* data = nullptr;
  QParams qp;
};
Result<bool> Lowerer::lower_matmul_like(size_t ni) {
  const Node& n = g_.nodes[ni];
  auto x = int_source(n.inputs[0]);
  if (!x) return false;
  // Weight / bias: constant int8 / int32 through DequantizeLinear with zero point 0.
  auto weight_of = [&](ValueId v, DType want) -> std::optional<QWeight> {
    const Node* dq = v == kNoValue ? nullptr : producer(v);
    if (dq == nullptr || dq->op != OpId::DequantizeLinear) return std::nullopt;
    const Tensor* c = constant(dq->inputs[0]);
    auto qp = qparams(*dq);
    if (c == nullptr || c->dtype() != want || !qp || !qp->zero_points_zero()) return std::nullopt;
    return QWeight{c, *qp};
  };
  auto w = weight_of(n.inputs[1], DType::kInt8);
  if (!w) return false;
  const Dims& xd = *g_.value(n.inputs[0]).dims;
  const Dims& wd = w->data->dims();
  kernels::ref::ConvGeometry2d geo;
  int64_t w_axis = 0;       // the output-channel axis of W as stored
  bool transpose_w = false;  // W stored [K, N]: transposed into the canonical [N, K]
  ValueId bias_v = kNoValue;
  if (n.op == OpId::Conv) {
    if (xd.size() != 4 || wd.size() != 4) return false;
    auto wg = ops::conv_geometry(n, xd, wd);
    if (!wg.ok()) return false;
    geo = {wg->batch, wg->in_channels, xd[2], xd[3], wg->out_channels, wg->out[0], wg->out[1],
           wg->kernel[0], wg->kernel[1], wg->strides[0], wg->strides[1], wg->dilations[0], wg->dilations[1],
           wg->pad_begin(0), wg->pad_begin(1), wg->group};
    bias_v = n.inputs.size() > 2 ? n.inputs[2] : kNoValue;
  } else {
    if (wd.size() != 2 || xd.size() < 2) return false;
    if (n.op == OpId::Gemm) {
      if (xd.size() != 2 || attr_int(n, "transA", 0) != 0 || attr_float(n, "alpha", 1.f) != 1.f ||
          attr_float(n, "beta", 1.f) != 1.f)
        return false;
      transpose_w = attr_int(n, "transB", 0) == 0;
      bias_v = n.inputs.size() > 2 ? n.inputs[2] : kNoValue;
    } else {
      transpose_w = true;
    }
    w_axis = transpose_w ? 1 : 0;
    const int64_t k = transpose_w ? wd[0] : wd[1], m = transpose_w ? wd[1] : wd[0];
    if (xd.back() != k) return false;
    geo.n = num_elements(xd) / k;
    geo.c = k;
    geo.m = m;
  }
  const int64_t m = geo.m;
  if (!w->qp.per_tensor() && (w->qp.axis != w_axis || static_cast<int64_t>(w->qp.scales.size()) != m))
    return false;
  std::optional<QWeight> b;
  if (bias_v != kNoValue) {
    b = weight_of(bias_v, DType::kInt32);
    if (!b || b->data->numel() != m || (!b->qp.per_tensor() && static_cast<int64_t>(b->qp.scales.size()) != m))
      return false;
  }
  auto chain = out_chain(n.outputs[0], true, true);
  if (!chain) return false;

  Step s = new_step(chain->q >= 0 ? StepKind::kConv : StepKind::kConvFloatOut, n);
  ConvWeights cw;
  std::vector<QMultiplier> multipliers;
  std::vector<double> acc_scales;
  cw.geom = geo;
  s.inputs = {x->tensor};
  auto wv = w->data->data<int8_t>();
  if (transpose_w) {
    const int64_t k = geo.c;
    std::vector<int8_t> t(wv.size());
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t mm = 0; mm < m; ++mm) t[static_cast<size_t>(mm * k + kk)] = wv[static_cast<size_t>(kk * m + mm)];
    cw.weights = std::move(t);
  } else {
    cw.weights.assign(wv.begin(), wv.end());
  }
  auto scale_at = [](const QParams& q, int64_t c) { return q.scales[q.per_tensor() ? 0 : static_cast<size_t>(c)]; };
  const double sx = x->q.scale;
  for (int64_t c = 0; c < m; ++c) {
    const double acc_scale = sx * static_cast<double>(scale_at(w->qp, c));  // scale of the int32 accumulator
    if (b) {
      // The contract stores bias at s_x * s_w[c]; a bias at another scale is rescaled once,
      // here, rounding half to even as QuantizeLinear would and saturating to int32.
      const int32_t bq = b->data->data<int32_t>()[static_cast<size_t>(c)];
      const double bs = scale_at(b->qp, c);
      if (std::fabs(bs - acc_scale) <= 1e-6 * acc_scale) {
        cw.bias.push_back(bq);
      } else {
        const double r = std::nearbyint(static_cast<double>(bq) * bs / acc_scale);
        cw.bias.push_back(static_cast<int32_t>(std::clamp(r, double{INT32_MIN}, double{INT32_MAX})));
      }
    }
    if (chain->q >= 0) multipliers.push_back(quantize_multiplier(acc_scale / static_cast<double>(chain->qp.scales[0])));
    else acc_scales.push_back(acc_scale);
  }
  if (chain->q >= 0) {
    auto& c = s.as<ConvParams>();
    static_cast<ConvWeights&>(c) = std::move(cw);
    c.multipliers = std::move(multipliers);
    clamp_range(*chain, c.lo, c.hi);
  } else {
    auto& c = s.as<ConvFloatOutParams>();
    static_cast<ConvWeights&>(c) = std::move(cw);
    c.acc_scales = std::move(acc_scales);
    c.float_min = chain->act_min;
    c.float_max = chain->act_max;
  }
  return emit_pattern(ni, std::move(s), {*chain});
}

Result<bool> Lowerer::lower_binary(size_t ni) {
  const Node& n = g_.nodes[ni];
  auto a = int_source(n.inputs[0]);
  auto b = int_source(n.inputs[1]);
  if (!a || !b) return false;
  auto chain = out_chain(n.outputs[0], n.op == OpId::Add, false);
  if (!chain) return false;
  Step s = new_step(n.op == OpId::Add ? StepKind::kAdd : StepKind::kMul, n);
  auto& bp = s.as<BinaryParams>();
  const Dims& out = *g_.value(n.outputs[0]).dims;
  bp.geom.out = out;
  bp.geom.a_strides = kernels::ref::broadcast_strides(*g_.value(n.inputs[0]).dims, out);
  bp.geom.b_strides = kernels::ref::broadcast_strides(*g_.value(n.inputs[1]).dims, out);
  s.inputs = {a->tensor, b->tensor};
  const double sy = chain->qp.scales[0];
  if (n.op == OpId::Add) {
    bp.multipliers = {quantize_multiplier(a->q.scale / sy), quantize_multiplier(b->q.scale / sy)};
  } else {
    bp.multipliers = {quantize_multiplier(static_cast<double>(a->q.scale) * b->q.scale / sy)};
  }
  clamp_range(*chain, bp.lo, bp.hi);
  return emit_pattern(ni, std::move(s), {*chain});
}

Result<bool> Lowerer::lower_lut(size_t ni) {
  const Node& n = g_.nodes[ni];
  auto x = int_source(n.inputs[0]);
  if (!x) return false;
  for (size_t i = 1; i < n.inputs.size(); ++i)
    if (n.inputs[i] != kNoValue && !constant(n.inputs[i])) return false;
  auto chain = out_chain(n.outputs[0], false, false);
  if (!chain) return false;
  // f over every 8-bit input, with the op's own float eval: table[k] = Q(f(DQ(q8_min + k))).
  Tensor in(DType::kFloat32, {256});
  const int32_t base = q8_min(x->is_signed);
  for (int32_t k = 0; k < 256; ++k)
    in.data<float>()[static_cast<size_t>(k)] = static_cast<float>(base + k - x->q.zero_point) * x->q.scale;
  // Parameters (Clip bounds, PRelu's slope) apply to every element alike (quant_kind made
  // sure): one value of each, broadcast over the 256 inputs.
  std::vector<Tensor> params;
  params.reserve(n.inputs.size());
  std::vector<const Tensor*> ins = {&in};
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    const Tensor* c = constant(n.inputs[i]);
    if (c && c->numel() > 1) {
      if (!ops::uniform(*c)) return false;
      c = &params.emplace_back(Tensor::scalar<float>(static_cast<float>(c->to_double()[0])));
    }
    ins.push_back(c);
  }
  auto outs = eval_node(n, ins);
  if (!outs.ok()) return outs.status().with_context("lower: ");
  Step s = new_step(StepKind::kLut, n);
  s.inputs = {x->tensor};
  const bool sg = chain->qp.qtype == DType::kInt8;
  auto& table = s.as<LutParams>().table;
  table.resize(256);
  kernels::ref::quantize((*outs)[0].template data<float>(), chain->qp.scales[0], chain->qp.zps[0], {table.data(), sg});
  return emit_pattern(ni, std::move(s), {*chain});
}

Result<bool> Lowerer::lower_pool(size_t ni) {
  const Node& n = g_.nodes[ni];
  auto x = int_source(n.inputs[0]);
  if (!x || n.outputs.size() != 1) return false;  // MaxPool's Indices output stays float
  const Dims& xd = *g_.value(n.inputs[0]).dims;
  if (xd.size() != 4) return false;
  const bool is_max = n.op == OpId::MaxPool || n.op == OpId::GlobalMaxPool || n.op == OpId::ReduceMax;
  if ((n.op == OpId::ReduceMean || n.op == OpId::ReduceMax) && !ops::reduces_spatial_axes(g_, n)) return false;
  kernels::ref::PoolGeometry2d geo{xd[0], xd[1], xd[2], xd[3], 1, 1, xd[2], xd[3]};
  if (n.op == OpId::MaxPool || n.op == OpId::AveragePool) {
    auto wg = ops::pool_geometry(n, xd, n.op == OpId::MaxPool);
    if (!wg.ok()) return false;
    geo = {xd[0], xd[1], xd[2], xd[3], wg->out[0], wg->out[1], wg->kernel[0], wg->kernel[1],
           wg->strides[0], wg->strides[1], wg->dilations[0], wg->dilations[1],
           wg->pad_begin(0), wg->pad_begin(1), wg->pad_end(0), wg->pad_end(1)};
    // One window along an axis: its stride moves nothing, and the step check bounds strides
    // by the padded input, so a 1-wide output gets stride 1.
    if (geo.oh == 1) geo.stride_h = 1;
    if (geo.ow == 1) geo.stride_w = 1;
  }
  auto chain = out_chain(n.outputs[0], false, false);
  if (!chain) return false;
  // Max commutes with dequantization only when input and output share scale and zero point.
  if (is_max && (!same_quant(x->q, chain->qp.quant()) || (chain->qp.qtype == DType::kInt8) != x->is_signed))
    return false;
  Step s = new_step(is_max ? StepKind::kMaxPool : StepKind::kAvgPool, n);
  s.inputs = {x->tensor};
  if (is_max) {
    s.as<MaxPoolParams>().geom = geo;
  } else {
    auto& ap = s.as<AvgPoolParams>();
    ap.geom = geo;
    ap.count_include_pad = n.op == OpId::AveragePool && attr_int(n, "count_include_pad", 0) != 0;
    // One multiplier per possible tap count: s_x / (s_y * count).
    ap.multipliers.push_back({});  // count 0 never divides
    for (int64_t c = 1; c <= geo.kh * geo.kw; ++c)
      ap.multipliers.push_back(quantize_multiplier(static_cast<double>(x->q.scale) /
                                                   (static_cast<double>(chain->qp.scales[0]) * static_cast<double>(c))));
    clamp_range(*chain, ap.lo, ap.hi);
  }
  return emit_pattern(ni, std::move(s), {*chain});
}

Result<bool> Lowerer::lower_concat(size_t ni) {
  const Node& n = g_.nodes[ni];
  std::vector<IntSrc> xs;
  for (ValueId v : n.inputs) {
    auto x = int_source(v);
    if (!x) return false;
    xs.push_back(*x);
  }
  auto chain = out_chain(n.outputs[0], false, false);
  if (!chain) return false;
  const Dims& out = *g_.value(n.outputs[0]).dims;
  int64_t axis = attr_int(n, "axis", 0);
  if (axis < 0) axis += static_cast<int64_t>(out.size());
  Step s = new_step(StepKind::kConcat, n);
  auto& cp = s.as<ConcatParams>();
  int64_t inner = 1;
  for (size_t d = static_cast<size_t>(axis) + 1; d < out.size(); ++d) inner *= out[d];
  cp.outer = 1;
  for (size_t d = 0; d < static_cast<size_t>(axis); ++d) cp.outer *= out[d];
  const TensorQuant qy = chain->qp.quant();
  const bool sy = chain->qp.qtype == DType::kInt8;
  for (size_t i = 0; i < xs.size(); ++i) {
    const IntSrc& x = xs[i];
    s.inputs.push_back(x.tensor);
    cp.blocks.push_back((*g_.value(n.inputs[i]).dims)[static_cast<size_t>(axis)] * inner);
    const bool copy = same_quant(x.q, qy) && x.is_signed == sy;
    cp.requant.push_back(copy ? 0 : 1);
    cp.multipliers.push_back(copy ? QMultiplier{} : quantize_multiplier(static_cast<double>(x.q.scale) / qy.scale));
  }
  return emit_pattern(ni, std::move(s), {*chain});
}

// Data movement on the 8-bit values: valid when every output is re-quantized with the
// input's own scale and zero point (the quantizer propagates thresholds through these ops).
Result<bool> Lowerer::lower_move(size_t ni) {
  const Node& n = g_.nodes[ni];
  if (n.op == OpId::Pad && attr_string(n, "mode", "constant") != "constant") return false;
  if (n.op == OpId::Resize && attr_string(n, "mode", "nearest") != "nearest") return false;
  auto x = int_source(n.inputs[0]);
  if (!x) return false;
  for (size_t i = 1; i < n.inputs.size(); ++i)
    if (n.inputs[i] != kNoValue && !constant(n.inputs[i])) return false;
  std::vector<OutChain> chains;
  for (ValueId o : n.outputs) {
    auto c = o == kNoValue ? std::nullopt : out_chain(o, false, false);
    if (!c || !same_quant(c->qp.quant(), x->q) || (c->qp.qtype == DType::kInt8) != x->is_signed) return false;
    chains.push_back(*c);
  }
  Step s = new_step(StepKind::kMove, n);
  s.inputs = {x->tensor};
  for (size_t i = 1; i < n.inputs.size(); ++i)
    s.inputs.push_back(n.inputs[i] == kNoValue ? -1 : add_tensor(n.inputs[i]));
  if (n.op == OpId::Pad) {
    // The fill value in the integer domain: Q(constant_value), Q(0) = zero point by default.
    const Tensor* c = n.inputs.size() > 2 ? constant(n.inputs[2]) : nullptr;
    const float fill = c ? static_cast<float>(c->to_double()[0]) : 0.f;
    const int32_t q = quantize_value(fill, x->q, x->is_signed);
    Tensor t = x->is_signed ? Tensor::scalar<int8_t>(static_cast<int8_t>(q)) : Tensor::scalar<uint8_t>(static_cast<uint8_t>(q));
    s.inputs.resize(3);
    s.inputs[2] = add_constant_tensor(n.name + "_quantized_fill", t);
  }
  return emit_pattern(ni, std::move(s), chains);
}

bool Lowerer::lower_quantize(size_t ni) {
  const Node& n = g_.nodes[ni];
  auto qp = qparams(n);
  const ValueId x = n.inputs[0];
  if (!qp || !qp->per_tensor() || !is_8bit(qp->qtype) || g_.value(x).dtype != DType::kFloat32 ||
      tensor_of_[static_cast<size_t>(x)] < 0)
    return false;
  Step s = new_step(StepKind::kQuantize, n);
  s.inputs = {tensor_of_[static_cast<size_t>(x)]};
  const int32_t t = add_tensor(n.outputs[0]);
  p_.tensors[static_cast<size_t>(t)].quant = qp->quant();
  s.outputs = {t};
  done_[ni] = true;
  p_.steps.push_back(std::move(s));
  return true;
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
    bool lowered = false;
    switch (op_def(n.op).lowering) {
      case Int8Lowering::kDequantize:
        if (n.op == OpId::DequantizeLinear) continue;  // on demand: materialize() or read by a pattern
        break;  // a Cast: the quantizer replaced the image input's (a remaining one is float)
      case Int8Lowering::kQuantize:
        QMAP_RETURN_IF_ERROR(materialize(n.inputs[0]));
        lowered = lower_quantize(ni);
        break;
      case Int8Lowering::kMatMulLike: {
        QMAP_ASSIGN_OR_RETURN(lowered, lower_matmul_like(ni));
        break;
      }
      case Int8Lowering::kBinary: {
        QMAP_ASSIGN_OR_RETURN(lowered, lower_binary(ni));
        break;
      }
      case Int8Lowering::kTable: {
        QMAP_ASSIGN_OR_RETURN(lowered, lower_lut(ni));
        break;
      }
      case Int8Lowering::kPool: {
        QMAP_ASSIGN_OR_RETURN(lowered, lower_pool(ni));
        break;
      }
      case Int8Lowering::kConcat: {
        QMAP_ASSIGN_OR_RETURN(lowered, lower_concat(ni));
        break;
      }
      case Int8Lowering::kMove: {
        QMAP_ASSIGN_OR_RETURN(lowered, lower_move(ni));
        break;
      }
      case Int8Lowering::kNone: break;
    }
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

}  // namespace

Result<IntProgram> lower_qdq_graph(const Graph& qdq) {
  Graph g = qdq;
  QMAP_RETURN_IF_ERROR(verify_graph(g).with_context("lower: "));
  QMAP_RETURN_IF_ERROR(infer_shapes(g, true).with_context("lower: "));
  g.rebuild_producers();
  return Lowerer(std::move(g)).run();
}

}  // namespace qmap
