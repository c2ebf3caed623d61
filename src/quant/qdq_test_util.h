// Test-only: builds small QDQ graphs in C++ the way the quantizer's contract shapes them
// (docs/quantization.md): activations Q -> DQ per tensor with a threshold from the value's
// actual range on the test input, int8 per-channel weights and int32 biases read through
// DequantizeLinear. Every node is evaluated as it is added (the op's float eval), so the
// thresholds are known while building.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/float_engine.h"
#include "ops/infer.h"
#include "ops/registry.h"
#include "program/int_program.h"
#include "quant/int_simulator.h"
#include "test_util.h"

namespace qmap::testing {

// int8 symmetric weights per the contract: per channel along `axis` (max|W_c| / 127; a zero
// channel gets scale 1), or with per_tensor one scale max|W| / 127 (repeated per channel).
// Values round half to even and clamp to [-127, 127].
inline std::pair<Tensor, std::vector<float>> quantize_weight(const Tensor& w, int64_t axis, bool per_tensor) {
  const Dims& d = w.dims();
  if (axis < 0) axis += static_cast<int64_t>(d.size());
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= d[static_cast<size_t>(i)];
  for (size_t i = static_cast<size_t>(axis) + 1; i < d.size(); ++i) inner *= d[i];
  const int64_t ch = d[static_cast<size_t>(axis)];
  std::vector<float> scales(static_cast<size_t>(ch), 0.f);
  auto wv = w.data<float>();
  auto at = [&](int64_t o, int64_t c, int64_t i) { return static_cast<size_t>((o * ch + c) * inner + i); };
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < ch; ++c)
      for (int64_t i = 0; i < inner; ++i)
        scales[static_cast<size_t>(c)] = std::max(scales[static_cast<size_t>(c)], std::fabs(wv[at(o, c, i)]));
  if (per_tensor) scales.assign(scales.size(), *std::max_element(scales.begin(), scales.end()));
  for (float& s : scales) s = s == 0.f ? 1.f : s / 127.f;
  Tensor q(DType::kInt8, d);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < ch; ++c)
      for (int64_t i = 0; i < inner; ++i)
        q.data<int8_t>()[at(o, c, i)] = static_cast<int8_t>(
            std::clamp(std::nearbyint(wv[at(o, c, i)] / scales[static_cast<size_t>(c)]), -127.f, 127.f));
  return {q, scales};
}

class QdqBuilder {
 public:
  ValueId input(const std::string& name, Tensor value) {
    const ValueId v = g_.add_value(name, value.dtype(), value.dims());
    g_.inputs.push_back(v);
    inputs_.push_back(value);
    vals_[v] = std::move(value);
    return v;
  }
  ValueId constant(const std::string& name, Tensor t) {
    const ValueId v = g_.add_constant(name, t);
    vals_[v] = std::move(t);
    return v;
  }
  // Adds a node and evaluates it; returns its outputs.
  std::vector<ValueId> ops(const std::string& type, const std::vector<ValueId>& ins,
                           std::map<std::string, AttrValue> attrs = {}, int num_outputs = 1) {
    Node n;
    n.name = type + "_" + std::to_string(g_.nodes.size());
    n.op = *op_by_name(type);
    n.op_type = type;
    n.inputs = ins;
    n.attrs = std::move(attrs);
    std::vector<ValueId> outs;
    for (int i = 0; i < num_outputs; ++i) outs.push_back(g_.add_value(n.name + "_out" + std::to_string(i)));
    n.outputs = outs;
    std::vector<const Tensor*> in_t;
    for (ValueId v : ins) in_t.push_back(v == kNoValue ? nullptr : &vals_.at(v));
    auto r = eval_node(n, in_t);
    QMAP_CHECK(r.ok(), "{}", r.status().message());
    for (size_t i = 0; i < outs.size(); ++i) vals_[outs[i]] = (*r)[i];
    g_.nodes.push_back(std::move(n));
    return outs;
  }
  ValueId op(const std::string& type, const std::vector<ValueId>& ins, std::map<std::string, AttrValue> attrs = {}) {
    return ops(type, ins, std::move(attrs))[0];
  }
  // QuantizeLinear with threshold max|v| (uint8 scale T/255 when `is_unsigned`, else int8 T/127).
  ValueId quantize(ValueId v, bool is_unsigned = false) {
    double t = 1e-6;
    for (double x : vals_.at(v).to_double()) t = std::max(t, std::fabs(x));
    return quantize_with(v, static_cast<float>(t / (is_unsigned ? 255.0 : 127.0)), is_unsigned);
  }
  ValueId quantize_with(ValueId v, float scale, bool is_unsigned) {
    const std::string base = g_.value(v).name;
    const ValueId s = constant(base + "_scale", Tensor::scalar<float>(scale));
    const ValueId z = constant(base + "_zero_point", is_unsigned ? Tensor::scalar<uint8_t>(0) : Tensor::scalar<int8_t>(0));
    const ValueId q = op("QuantizeLinear", {v, s, z});
    qparams_[q] = {s, z};
    return q;
  }
  ValueId dequantize(ValueId q) {
    auto [s, z] = qparams_.at(q);
    return op("DequantizeLinear", {q, s, z});
  }
  ValueId qdq(ValueId v, bool is_unsigned = false) { return dequantize(quantize(v, is_unsigned)); }
  // Re-quantizes v with the scale of an existing Q output (pass-through ops keep scales).
  ValueId qdq_like(ValueId v, ValueId like_q) {
    const float s = vals_.at(qparams_.at(like_q).first).data<float>()[0];
    return dequantize(quantize_with(v, s, vals_.at(like_q).dtype() == DType::kUInt8));
  }
  // int8 symmetric weights, per channel along `axis` (max|W_c| / 127; a zero channel 1).
  // per_tensor: one scale max|W| / 127 for the whole tensor (a scalar scale, no axis).
  ValueId weight(const std::string& name, const Tensor& w, int64_t axis, bool per_tensor = false) {
    auto [q, scales] = quantize_weight(w, axis, per_tensor);
    const int64_t ch = static_cast<int64_t>(scales.size());
    w_scales_[name] = scales;
    const ValueId qv = constant(name + "_quantized", q);
    if (per_tensor) {
      const ValueId s = constant(name + "_scale", Tensor::scalar<float>(scales[0]));
      const ValueId z = constant(name + "_zero_point", Tensor::scalar<int8_t>(0));
      return op("DequantizeLinear", {qv, s, z});
    }
    const ValueId s = constant(name + "_scale", Tensor::from_vector<float>({ch}, scales));
    const ValueId z = constant(name + "_zero_point", Tensor(DType::kInt8, {ch}));
    return op("DequantizeLinear", {qv, s, z}, {{"axis", axis}});
  }
  // int32 bias at s_x * s_w[c] (axis 0); x_q is the input's Q output.
  ValueId bias(const std::string& name, const std::vector<float>& b, ValueId x_q, const std::string& w_name) {
    const float sx = vals_.at(qparams_.at(x_q).first).data<float>()[0];
    const auto& sw = w_scales_.at(w_name);
    std::vector<float> sb;
    std::vector<int32_t> q;
    for (size_t c = 0; c < b.size(); ++c) {
      sb.push_back(sx * sw[c]);
      q.push_back(static_cast<int32_t>(std::nearbyint(static_cast<double>(b[c]) / sb.back())));
    }
    const int64_t n = static_cast<int64_t>(b.size());
    const ValueId qv = constant(name + "_quantized", Tensor::from_vector<int32_t>({n}, q));
    const ValueId s = constant(name + "_scale", Tensor::from_vector<float>({n}, sb));
    const ValueId z = constant(name + "_zero_point", Tensor(DType::kInt32, {n}));
    return op("DequantizeLinear", {qv, s, z}, {{"axis", int64_t{0}}});
  }
  void output(ValueId v) { g_.outputs.push_back(v); }
  Graph finish() {
    Graph g = g_;
    g.rebuild_producers();
    auto st = infer_shapes(g);
    QMAP_CHECK(st.ok(), "{}", st.message());
    return g;
  }
  const std::vector<Tensor>& inputs() const { return inputs_; }
  float scale_of(ValueId q) const { return vals_.at(qparams_.at(q).first).data<float>()[0]; }

 private:
  Graph g_;
  std::vector<Tensor> inputs_;
  std::map<ValueId, Tensor> vals_;
  std::map<ValueId, std::pair<ValueId, ValueId>> qparams_;  // Q output -> (scale, zero point)
  std::map<std::string, std::vector<float>> w_scales_;
};

// Runs `g` in the FloatEngine (float ops between Q/DQ, as ONNX Runtime does) and in the
// IntSimulator; expects every float output within `steps` output quantization steps
// (`step` in float units) and prints the exact-match rate.
// How many steps of kind k the program holds.
inline int count_steps(const IntProgram& p, StepKind k) {
  int n = 0;
  for (const Step& s : p.steps) n += s.kind == k;
  return n;
}

inline void expect_sim_matches_float(const Graph& g, const std::vector<Tensor>& inputs,
                                     const std::vector<float>& step, double steps = 1.0,
                                     double min_exact = 0.9) {
  auto fe = FloatEngine::create(g);
  ASSERT_TRUE(fe.ok()) << fe.status().message();
  auto want = fe->run(inputs);
  ASSERT_TRUE(want.ok()) << want.status().message();
  auto sim = IntSimulator::create(g, true);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  auto got = sim->run(inputs);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), want->size());
  for (size_t o = 0; o < got->size(); ++o) {
    const Tensor& a = (*got)[o];
    const Tensor& b = (*want)[o];
    ASSERT_EQ(a.dtype(), b.dtype()) << "output " << o;
    ASSERT_EQ(a.dims(), b.dims()) << "output " << o;
    auto av = a.to_double(), bv = b.to_double();
    size_t exact = 0;
    for (size_t i = 0; i < av.size(); ++i) {
      const double d = std::fabs(av[i] - bv[i]);
      if (d <= 1e-6 * std::max(1.0, std::fabs(bv[i]))) ++exact;
      ASSERT_LE(d, steps * step[o] * (1 + 1e-5) + 1e-6 * std::fabs(bv[i]))
          << "output " << o << " index " << i << " sim " << av[i] << " float " << bv[i] << " step " << step[o];
    }
    const double rate = av.empty() ? 1.0 : static_cast<double>(exact) / static_cast<double>(av.size());
    std::printf("  output %zu: %zu of %zu elements equal, mismatch rate %.4f\n", o, exact, av.size(), 1.0 - rate);
    EXPECT_GE(rate, min_exact) << "output " << o;
  }
}

}  // namespace qmap::testing
