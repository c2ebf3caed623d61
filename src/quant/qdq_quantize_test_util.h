// Test-only: a small stand-in for the quantizer, turning a float graph into a QDQ graph per
// the contract (docs/quantization.md), so whole networks can exercise the lowering before
// the real quantizer lands. Thresholds are max|v| over one sample; weights per channel int8,
// biases int32 at s_x * s_w[c]; Conv/Gemm/MatMul -> Relu|Clip and Add -> Relu fused;
// pass-through ops keep their input's scale; non-negative values (Relu, Clip min >= 0,
// Sigmoid, Softmax, ...) are uint8. Graph outputs stay float: a Conv/Gemm/MatMul output is
// then high precision, any other op reads dequantized inputs.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/float_engine.h"
#include "ops/infer.h"
#include "ops/registry.h"
#include "quant/qdq_test_util.h"

namespace qmap::testing {

inline bool is_pass_through(OpId op) {
  switch (op) {
    case OpId::MaxPool: case OpId::GlobalMaxPool: case OpId::Reshape: case OpId::Flatten:
    case OpId::Transpose: case OpId::Squeeze: case OpId::Unsqueeze: case OpId::Slice:
    case OpId::Split: case OpId::Pad: case OpId::Resize: case OpId::Concat: case OpId::Identity:
      return true;
    default:
      return false;
  }
}

// Returns the QDQ graph, or a failed Result when the float graph does not run.
inline Result<Graph> quantize_for_test(const Graph& fg, const std::vector<Tensor>& sample) {
  QMAP_ASSIGN_OR_RETURN(FloatEngine fe, FloatEngine::create(fg, {.keep_all_values = true}));
  QMAP_ASSIGN_OR_RETURN(auto outs, fe.run(sample));
  (void)outs;
  const auto& vals = fe.all_values();
  Graph g = fg;
  const size_t nv0 = g.values.size();
  std::vector<size_t> readers(nv0, 0);
  for (const Node& n : fg.nodes)
    for (ValueId v : n.inputs)
      if (v != kNoValue) ++readers[static_cast<size_t>(v)];
  std::set<ValueId> outputs(fg.outputs.begin(), fg.outputs.end());
  // Per value: threshold, unsigned; pass-through outputs copy their input's.
  std::map<ValueId, std::pair<double, bool>> qinfo;
  auto max_abs = [&](ValueId v) {
    double t = 1e-6;
    const Tensor* tv = nullptr;
    if (fg.value(v).constant) tv = &*fg.value(v).constant;
    else if (auto it = vals.find(fg.value(v).name); it != vals.end()) tv = &it->second;
    else for (size_t i = 0; i < fg.inputs.size(); ++i) if (fg.inputs[i] == v) tv = &sample[i];
    if (tv) for (double x : tv->to_double()) t = std::max(t, std::fabs(x));
    return t;
  };
  for (ValueId v : fg.inputs) qinfo[v] = {max_abs(v), false};
  auto fused_into_next = [&](const Node& n, ValueId out) {
    if (readers[static_cast<size_t>(out)] != 1 || outputs.count(out)) return false;
    for (const Node& c : fg.nodes)
      for (ValueId i : c.inputs)
        if (i == out) {
          const bool act = c.op == OpId::Relu || c.op == OpId::Clip;
          if (n.op == OpId::Add) return c.op == OpId::Relu;
          return act && (n.op == OpId::Conv || n.op == OpId::Gemm || n.op == OpId::MatMul);
        }
    return false;
  };
  std::vector<Node> nodes;
  std::map<ValueId, ValueId> dq_of;  // float value -> its DequantizeLinear output
  std::map<ValueId, float> scale_of;
  int uid = 0;
  auto add_const = [&](const std::string& name, Tensor t) { return g.add_constant(g.unique_value_name(name), std::move(t)); };
  auto add_node = [&](const std::string& type, std::vector<ValueId> ins, std::vector<ValueId> outs,
                      std::map<std::string, AttrValue> attrs = {}) {
    Node n;
    n.name = type + "_t" + std::to_string(uid++);
    n.op = *op_by_name(type);
    n.op_type = type;
    n.inputs = std::move(ins);
    n.outputs = std::move(outs);
    n.attrs = std::move(attrs);
    nodes.push_back(std::move(n));
  };
  auto insert_qdq = [&](ValueId v) {
    auto [t, is_unsigned] = qinfo.at(v);
    const float s = static_cast<float>(t / (is_unsigned ? 255.0 : 127.0));
    const std::string name = g.value(v).name;
    const ValueId sc = add_const(name + "_scale", Tensor::scalar<float>(s));
    const ValueId zp = add_const(name + "_zero_point", is_unsigned ? Tensor::scalar<uint8_t>(0) : Tensor::scalar<int8_t>(0));
    const ValueId q = g.add_value(g.unique_value_name(name + "_quantized"));
    const ValueId d = g.add_value(g.unique_value_name(name + "_dequantized"));
    add_node("QuantizeLinear", {v, sc, zp}, {q});
    add_node("DequantizeLinear", {q, sc, zp}, {d});
    dq_of[v] = d;
    scale_of[v] = s;
  };
  auto quant_weight = [&](ValueId wv, int64_t axis) -> std::pair<ValueId, std::vector<float>> {
    auto [q, sc] = quantize_weight(*fg.value(wv).constant, axis, false);
    const int64_t ch = static_cast<int64_t>(sc.size());
    const std::string name = g.value(wv).name;
    const ValueId qv = add_const(name + "_quantized", q);
    const ValueId s = add_const(name + "_scale", Tensor::from_vector<float>({ch}, sc));
    const ValueId z = add_const(name + "_zero_point", Tensor(DType::kInt8, {ch}));
    const ValueId dv = g.add_value(g.unique_value_name(name + "_dequantized"));
    add_node("DequantizeLinear", {qv, s, z}, {dv}, {{"axis", axis}});
    return {dv, sc};
  };
  for (ValueId v : fg.inputs)
    if (fg.value(v).dtype == DType::kFloat32) insert_qdq(v);
  for (const Node& n0 : fg.nodes) {
    Node n = n0;
    // Inputs: quantized activations are read through their DequantizeLinear.
    for (ValueId& v : n.inputs)
      if (v != kNoValue && dq_of.count(v)) v = dq_of.at(v);
    const bool mm = n.op == OpId::Conv || n.op == OpId::Gemm || n.op == OpId::MatMul;
    if (mm && n.inputs.size() > 1 && fg.value(n0.inputs[1]).constant) {
      int64_t axis = 0;
      if (n.op == OpId::Gemm) axis = attr_int(n, "transB", 0) ? 0 : 1;
      if (n.op == OpId::MatMul) axis = 1;
      auto [dw, sw] = quant_weight(n0.inputs[1], axis);
      n.inputs[1] = dw;
      if (n.inputs.size() > 2 && n.inputs[2] != kNoValue && scale_of.count(n0.inputs[0])) {
        const Tensor& b = *fg.value(n0.inputs[2]).constant;
        const float sx = scale_of.at(n0.inputs[0]);
        std::vector<float> sb;
        std::vector<int32_t> bq;
        for (int64_t c = 0; c < b.numel(); ++c) {
          sb.push_back(sx * sw[static_cast<size_t>(c)]);
          bq.push_back(static_cast<int32_t>(std::nearbyint(static_cast<double>(b.data<float>()[static_cast<size_t>(c)]) / sb.back())));
        }
        const std::string name = g.value(n0.inputs[2]).name;
        const ValueId qv = add_const(name + "_quantized", Tensor::from_vector<int32_t>(b.dims(), bq));
        const ValueId s = add_const(name + "_scale", Tensor::from_vector<float>({b.numel()}, sb));
        const ValueId z = add_const(name + "_zero_point", Tensor(DType::kInt32, {b.numel()}));
        const ValueId dv = g.add_value(g.unique_value_name(name + "_dequantized"));
        add_node("DequantizeLinear", {qv, s, z}, {dv}, {{"axis", int64_t{0}}});
        n.inputs[2] = dv;
      }
    }
    nodes.push_back(n);
    for (ValueId o : n0.outputs) {
      if (o == kNoValue || fg.value(o).dtype != DType::kFloat32) continue;
      bool nonneg = n0.op == OpId::Relu || n0.op == OpId::Sigmoid || n0.op == OpId::HardSigmoid || n0.op == OpId::Softmax;
      if (n0.op == OpId::Clip && n0.inputs.size() > 1 && n0.inputs[1] != kNoValue)
        nonneg = fg.value(n0.inputs[1]).constant->data<float>()[0] >= 0.f;
      if (is_pass_through(n0.op) && qinfo.count(n0.inputs[0])) qinfo[o] = qinfo.at(n0.inputs[0]);
      else qinfo[o] = {max_abs(o), nonneg};
      if (n0.op == OpId::Concat) {  // a shared scale: the widest input's
        double t = 0;
        for (ValueId i : n0.inputs) t = std::max(t, qinfo.count(i) ? qinfo.at(i).first : 0.0);
        qinfo[o] = {t, false};
      }
      if (outputs.count(o) || fused_into_next(n0, o)) continue;
      insert_qdq(o);
    }
  }
  g.nodes = std::move(nodes);
  g.rebuild_producers();
  QMAP_RETURN_IF_ERROR(infer_shapes(g));
  return g;
}

}  // namespace qmap::testing
