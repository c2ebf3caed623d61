// Quantizer tests on hand-built graphs: weight/bias numerics, fused groups, scale
// propagation, signedness, CPU borders, overrides, high-precision outputs, value_map,
// errors and determinism. Whole-model numerics against ONNX Runtime are in
// tests/ort/quantized_ort_test.cpp.
#include "quant/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "engine/float_engine.h"
#include "import/onnx/onnx_export.h"
#include "ops/dump.h"
#include "ops/infer.h"
#include "ops/registry.h"
#include "quant/quantize_params.h"
#include "target/target_spec.h"
#include "test_util.h"

namespace qmap {
namespace {

// Builds a float graph node by node; finish() infers shapes.
struct Builder {
  Graph g;
  ValueId input(const std::string& name, Dims dims, DType t = DType::kFloat32) {
    const ValueId v = g.add_value(name, t, std::move(dims));
    g.inputs.push_back(v);
    return v;
  }
  ValueId constant(const std::string& name, Tensor t) { return g.add_constant(name, std::move(t)); }
  ValueId random_constant(const std::string& name, Dims dims, uint32_t seed) {
    return constant(name, testing::random_tensor(std::move(dims), seed));
  }
  // Adds `op` named `name` writing value `out` (and `more_outs`).
  ValueId node(const std::string& op, const std::string& name, std::vector<ValueId> ins, const std::string& out,
               std::map<std::string, AttrValue> attrs = {}, std::vector<std::string> more_outs = {}) {
    Node n;
    n.name = name;
    n.op = *op_by_name(op);
    n.op_type = op;
    n.inputs = std::move(ins);
    n.outputs = {g.add_value(out)};
    for (const auto& o : more_outs) n.outputs.push_back(g.add_value(o));
    n.attrs = std::move(attrs);
    g.nodes.push_back(std::move(n));
    return g.nodes.back().outputs[0];
  }
  Graph finish(std::vector<ValueId> outputs) {
    g.outputs = std::move(outputs);
    g.rebuild_producers();
    const Status st = infer_shapes(g);
    QMAP_CHECK(st.ok(), "{}", st.message());
    return g;
  }
};

const Node* find_node(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

const Node* producer_of(const Graph& g, const std::string& value) {
  const auto id = g.find_value(value);
  if (!id) return nullptr;
  const int p = g.value(*id).producer;
  return p < 0 ? nullptr : &g.nodes[static_cast<size_t>(p)];
}

std::string input_name(const Graph& g, const Node& n, size_t i) { return g.value(n.inputs.at(i)).name; }

const Tensor& constant_of(const Graph& g, const std::string& name) {
  const auto id = g.find_value(name);
  QMAP_CHECK(id && g.value(*id).constant, "no constant {}", name);
  return *g.value(*id).constant;
}

float scale_of(const Graph& g, const std::string& value) { return constant_of(g, value + "_scale").data<float>()[0]; }
DType zp_type(const Graph& g, const std::string& value) { return constant_of(g, value + "_zero_point").dtype(); }

const QuantNodeInfo& info(const QuantizedModel& m, const std::string& name) {
  for (const auto& r : m.nodes)
    if (r.name == name) return r;
  QMAP_CHECK(false, "no node {}", name);
}

Result<QuantizedModel> quantize(const Graph& g, const std::map<std::string, float>& t, QuantizeOptions o = {}) {
  return quantize_graph(g, t, o);
}

TargetSpec generic_march() {
  Result<TargetSpec> spec = load_target_spec("generic");
  QMAP_CHECK(spec.ok(), "{}", spec.status().message());
  return std::move(*spec);
}

// x -> conv1 (3x3, bias) -> relu1 -> conv2 (1x1, bias) -> y (graph output).
Graph conv_relu_conv() {
  Builder b;
  const ValueId x = b.input("x", {1, 2, 6, 6});
  const ValueId c1 = b.node("Conv", "conv1", {x, b.random_constant("w1", {4, 2, 3, 3}, 1), b.random_constant("b1", {4}, 2)},
                            "c1", {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId r1 = b.node("Relu", "relu1", {c1}, "r1");
  const ValueId y = b.node("Conv", "conv2", {r1, b.random_constant("w2", {3, 4, 1, 1}, 3), b.random_constant("b2", {3}, 4)}, "y");
  return b.finish({y});
}

const std::map<std::string, float> kConvThresholds = {{"x", 1.f}, {"c1", 2.f}, {"r1", 1.5f}, {"y", 3.f}};

TEST(QuantizeParams, WeightScalesPerChannelAndPerTensor) {
  // Channel 0: max|w| 1.27 -> scale 0.01, 0.5 / 0.01 = 50; channel 1: max 0.254 -> 0.002;
  // channel 2 all zero -> scale 1, codes 0.
  const Tensor w = Tensor::from_vector<float>({3, 1, 1, 2}, {0.5f, -1.27f, 0.254f, 0.001f, 0.f, 0.f});
  const QuantizedWeights pc = quantize_weights(w, 0);
  EXPECT_EQ(pc.scale.dims(), (Dims{3}));
  EXPECT_FLOAT_EQ(pc.scale.data<float>()[0], 0.01f);
  EXPECT_FLOAT_EQ(pc.scale.data<float>()[1], 0.002f);
  EXPECT_EQ(pc.scale.data<float>()[2], 1.f);
  EXPECT_EQ(pc.q.to_int64(), (std::vector<int64_t>{50, -127, 127, 0, 0, 0}));  // 0.001/0.002 = 0.5 -> 0 (even)
  // Per tensor: one scale 0.01; 0.254 / 0.01 = 25.4 -> 25.
  const QuantizedWeights pt = quantize_weights(w, -1);
  EXPECT_EQ(pt.scale.rank(), 0);
  EXPECT_FLOAT_EQ(pt.scale.data<float>()[0], 0.01f);
  EXPECT_EQ(pt.q.to_int64(), (std::vector<int64_t>{50, -127, 25, 0, 0, 0}));
  // Axis 1 of a [K=2, N=3] matrix (MatMul B, Gemm transB=0): columns are channels.
  const Tensor m = Tensor::from_vector<float>({2, 3}, {1.27f, 0.f, -2.54f, -0.635f, 0.f, 1.27f});
  const QuantizedWeights col = quantize_weights(m, 1);
  EXPECT_FLOAT_EQ(col.scale.data<float>()[0], 0.01f);
  EXPECT_EQ(col.scale.data<float>()[1], 1.f);
  EXPECT_FLOAT_EQ(col.scale.data<float>()[2], 0.02f);
  EXPECT_EQ(col.q.to_int64(), (std::vector<int64_t>{127, 0, -127, -64, 0, 64}));  // -63.5 -> -64, 63.5 -> 64 (even)
}

TEST(QuantizeParams, BiasValuesTiesAndSaturation) {
  // s_x 1, s_w {0.5, 0.5, 0.25}: 1.25 / 0.5 = 2.5 -> 2 and 1.75 / 0.5 = 3.5 -> 4 (half to
  // even); 1e10 / 0.25 saturates to INT32_MAX.
  const Tensor w_scale = Tensor::from_vector<float>({3}, {0.5f, 0.5f, 0.25f});
  const QuantizedBias qb = quantize_bias(Tensor::from_vector<float>({3}, {1.25f, 1.75f, 1e10f}), 1.f, w_scale, 3);
  EXPECT_EQ(qb.q.to_int64(), (std::vector<int64_t>{2, 4, std::numeric_limits<int32_t>::max()}));
  EXPECT_EQ(qb.scale.dims(), (Dims{3}));
  // The scale is the float32 product s_x * s_w: 0.1f * 0.01f.
  const QuantizedBias pc = quantize_bias(Tensor::from_vector<float>({1}, {-0.5f}), 0.1f,
                                         Tensor::from_vector<float>({2}, {0.01f, 0.02f}), 2);
  EXPECT_EQ(pc.scale.data<float>()[0], 0.1f * 0.01f);
  EXPECT_EQ(pc.q.to_int64(), (std::vector<int64_t>{-500, -250}));  // one bias broadcast to N = 2
  const QuantizedBias pt = quantize_bias(Tensor::from_vector<float>({2}, {1.f, -1.f}), 0.5f, Tensor::scalar<float>(0.01f), 2);
  EXPECT_EQ(pt.scale.rank(), 0);
  EXPECT_EQ(pt.q.to_int64(), (std::vector<int64_t>{200, -200}));
}

TEST(Quantize, ConvWeightsAndBiasPerChannel) {
  const Graph g = conv_relu_conv();
  auto m = quantize(g, kConvThresholds);
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Graph& q = m->graph;
  const Node* conv1 = find_node(q, "conv1");
  ASSERT_NE(conv1, nullptr);
  // Weights: int8 initializer -> DequantizeLinear(axis 0), scale max|W_c| / 127.
  EXPECT_EQ(input_name(q, *conv1, 1), "w1_dequantized");
  const Node* wdq = find_node(q, "w1_DequantizeLinear");
  ASSERT_NE(wdq, nullptr);
  EXPECT_EQ(attr_int(*wdq, "axis", 1), 0);
  const Tensor& w1 = constant_of(g, "w1");
  const Tensor& w1q = constant_of(q, "w1_quantized");
  const Tensor& w1s = constant_of(q, "w1_scale");
  ASSERT_EQ(w1q.dtype(), DType::kInt8);
  ASSERT_EQ(w1s.dims(), (Dims{4}));
  EXPECT_EQ(constant_of(q, "w1_zero_point").dtype(), DType::kInt8);
  for (int c = 0; c < 4; ++c) {
    float mx = 0;
    for (int i = 0; i < 18; ++i) mx = std::max(mx, std::fabs(w1.data<float>()[static_cast<size_t>(c * 18 + i)]));
    EXPECT_EQ(w1s.data<float>()[static_cast<size_t>(c)], static_cast<float>(mx / 127.0)) << "channel " << c;
    for (int i = 0; i < 18; ++i) {
      const size_t k = static_cast<size_t>(c * 18 + i);
      EXPECT_EQ(w1q.data<int8_t>()[k], static_cast<int8_t>(std::nearbyint(w1.data<float>()[k] / w1s.data<float>()[c])));
    }
  }
  // Bias: int32 at s_x * s_w[c] (x is signed: s_x = 1 / 127), no zero point, axis 0.
  const Tensor& b1q = constant_of(q, "b1_quantized");
  ASSERT_EQ(b1q.dtype(), DType::kInt32);
  const float s_x = static_cast<float>(1.0 / 127.0);
  EXPECT_EQ(scale_of(q, "x"), s_x);
  for (size_t c = 0; c < 4; ++c) {
    const float s = static_cast<float>(double{s_x} * w1s.data<float>()[c]);
    EXPECT_EQ(constant_of(q, "b1_scale").data<float>()[c], s);
    EXPECT_EQ(b1q.data<int32_t>()[c], static_cast<int32_t>(std::nearbyint(constant_of(g, "b1").data<float>()[c] / double{s})));
  }
  EXPECT_EQ(find_node(q, "b1_DequantizeLinear")->inputs.size(), 2u);
  // The float weights are gone: only quantized initializers remain.
  EXPECT_FALSE(q.find_value("w1").has_value());
}

TEST(Quantize, WeightAxisPerOp) {
  // The output channel's axis: Gemm B [N, K] with transB=1 -> 0, [K, N] -> 1; MatMul B
  // [K, N] -> 1. Biases are int32 [N] on axis 0. ConvTranspose has no integer form: its
  // weights stay float and it runs on the CPU.
  Builder b;
  const ValueId x = b.input("x", {2, 4});
  const ValueId g1 = b.node("Gemm", "gemm_t", {x, b.random_constant("bt", {3, 4}, 21), b.random_constant("ct", {3}, 22)},
                            "g1", {{"transB", int64_t{1}}});
  const ValueId g2 = b.node("Gemm", "gemm_n", {x, b.random_constant("bn", {4, 5}, 23), b.random_constant("cn", {1, 5}, 24)}, "g2");
  const ValueId mm = b.node("MatMul", "mm", {x, b.random_constant("bm", {4, 6}, 25)}, "mm");
  const ValueId img = b.input("img", {1, 2, 3, 3});
  const ValueId dc = b.node("ConvTranspose", "deconv", {img, b.random_constant("wd", {2, 3, 2, 2}, 26), b.random_constant("bd", {3}, 27)},
                            "dc", {{"strides", std::vector<int64_t>{2, 2}}});
  auto m = quantize(b.finish({g1, g2, mm, dc}), {{"x", 1}, {"img", 1}});
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Graph& q = m->graph;
  for (const auto& [w, axis, n] : std::vector<std::tuple<std::string, int64_t, int64_t>>{
           {"bt", 0, 3}, {"bn", 1, 5}, {"bm", 1, 6}}) {
    EXPECT_EQ(attr_int(*find_node(q, w + "_DequantizeLinear"), "axis", -1), axis) << w;
    EXPECT_EQ(constant_of(q, w + "_scale").dims(), (Dims{n})) << w;
  }
  for (const auto& [bias, n] : std::vector<std::pair<std::string, int64_t>>{{"ct", 3}, {"cn", 5}}) {
    EXPECT_EQ(constant_of(q, bias + "_quantized").dims(), (Dims{n})) << bias;
    EXPECT_EQ(attr_int(*find_node(q, bias + "_DequantizeLinear"), "axis", -1), 0) << bias;
  }
  for (const char* node : {"gemm_t", "gemm_n", "mm"}) EXPECT_EQ(info(*m, node).where, Placement::kNpu) << node;
  EXPECT_EQ(info(*m, "deconv").where, Placement::kCpu);
  EXPECT_EQ(info(*m, "deconv").reason, "no integer form for ConvTranspose (lowering has no integer transposed convolution)");
  EXPECT_TRUE(q.find_value("wd").has_value());  // float weights kept
}

TEST(Quantize, PerTensorWeightsOnRequest) {
  QuantizeOptions o;
  o.per_channel = false;
  auto m = quantize(conv_relu_conv(), kConvThresholds, o);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(constant_of(m->graph, "w1_scale").rank(), 0);
  EXPECT_EQ(constant_of(m->graph, "b1_scale").rank(), 0);
  EXPECT_FALSE(find_node(m->graph, "w1_DequantizeLinear")->has_attr("axis"));
}

TEST(Quantize, FusedConvReluAndHighPrecisionOutput) {
  auto m = quantize(conv_relu_conv(), kConvThresholds);
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Graph& q = m->graph;
  // relu1 reads conv1's float output directly: no Q/DQ inside the group.
  EXPECT_EQ(input_name(q, *find_node(q, "relu1"), 0), "c1");
  EXPECT_EQ(find_node(q, "c1_QuantizeLinear"), nullptr);
  // The group's output is unsigned (Relu): uint8, scale 1.5 / 255.
  EXPECT_EQ(zp_type(q, "r1"), DType::kUInt8);
  EXPECT_EQ(scale_of(q, "r1"), static_cast<float>(1.5 / 255.0));
  EXPECT_EQ(input_name(q, *find_node(q, "conv2"), 0), "r1_dequantized");
  // conv2 writes the graph output y in float from its accumulator: no Q after it.
  EXPECT_EQ(find_node(q, "y_QuantizeLinear"), nullptr);
  EXPECT_EQ(q.value(q.outputs[0]).name, "y");
  EXPECT_EQ(producer_of(q, "y")->name, "conv2");
  // Node table.
  EXPECT_EQ(info(*m, "conv1").group, "conv1");
  EXPECT_EQ(info(*m, "relu1").group, "conv1");
  EXPECT_EQ(info(*m, "conv1").threshold, 1.5f);
  EXPECT_TRUE(info(*m, "relu1").output_unsigned);
  EXPECT_TRUE(std::isnan(info(*m, "conv2").threshold));
  EXPECT_EQ(info(*m, "conv2").group, "");
  EXPECT_EQ(info(*m, "conv2").where, Placement::kNpu);
  // value_map: dequantized values, the accumulator value inside the group, the output.
  EXPECT_EQ(m->value_map.at("x"), "x_dequantized");
  EXPECT_EQ(m->value_map.at("c1"), "c1");
  EXPECT_EQ(m->value_map.at("r1"), "r1_dequantized");
  EXPECT_EQ(m->value_map.at("y"), "y");
  EXPECT_EQ(m->value_map.size(), 4u);
  EXPECT_EQ(q.value(q.inputs[0]).name, "x");
}

TEST(Quantize, QdqGraphRunsCloseToTheFloatGraph) {
  // Thresholds max|v| over the input itself: the QDQ graph in the float engine stays within a
  // few output steps of the float graph (seed 7, x 1x2x6x6 uniform [-1, 1)).
  const Graph g = conv_relu_conv();
  const Tensor x = testing::random_tensor({1, 2, 6, 6}, 7);
  auto fe = FloatEngine::create(g, {.keep_all_values = true});
  ASSERT_TRUE(fe.ok());
  auto ref = fe->run({x});
  ASSERT_TRUE(ref.ok());
  std::map<std::string, Tensor> values = fe->all_values();
  values["x"] = x;
  std::map<std::string, float> t;
  for (const auto& [name, v] : values) {
    float mx = 0;
    for (float f : v.data<float>()) mx = std::max(mx, std::fabs(f));
    t[name] = mx;
  }
  auto m = quantize(g, t);
  ASSERT_TRUE(m.ok()) << m.status().message();
  auto qe = FloatEngine::create(m->graph);
  ASSERT_TRUE(qe.ok()) << qe.status().message();
  auto out = qe->run({x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  // Each layer adds at most about half a step of its output scale per element (rounding),
  // accumulated over the 4 + 4 input channels of two convolutions: 4% of y's range is ample
  // and still catches a wrong scale or axis (errors of 50% and more).
  EXPECT_TRUE(testing::tensors_near((*out)[0], (*ref)[0], 0.04 * t["y"], 0)) << "seed 7";
}

TEST(Quantize, PassThroughScalesAndConcatUnification) {
  // a = Relu(conv_a(x)); p = MaxPool(a); r = Reshape(p); s = Sigmoid(x); cat = Concat(r', s)...
  Builder b;
  const ValueId x = b.input("x", {1, 2, 4, 4});
  const ValueId ca = b.node("Conv", "conv_a", {x, b.random_constant("wa", {2, 2, 1, 1}, 5)}, "ca");
  const ValueId a = b.node("Relu", "relu_a", {ca}, "a");
  const ValueId p = b.node("MaxPool", "pool", {a}, "p", {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  const ValueId shape = b.constant("shape", Tensor::from_vector<int64_t>({4}, {1, 2, 2, 2}));
  const ValueId r = b.node("Reshape", "reshape", {p, shape}, "r");
  const ValueId t = b.node("Tanh", "tanh", {b.node("Conv", "conv_t", {x, b.random_constant("wt", {2, 2, 2, 2}, 6)}, "ct",
                                                     {{"strides", std::vector<int64_t>{2, 2}}})}, "t");
  const ValueId s = b.node("Sigmoid", "sig", {x}, "s");
  const ValueId sp = b.node("MaxPool", "pool_s", {s}, "sp", {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  const ValueId cat = b.node("Concat", "cat", {r, t, sp}, "cat", {{"axis", int64_t{1}}});
  const ValueId y = b.node("Relu", "out_relu", {cat}, "y");
  const Graph g = b.finish({y});
  const std::map<std::string, float> th = {{"x", 1}, {"ca", 9}, {"a", 2}, {"p", 5}, {"r", 6}, {"ct", 9},
                                           {"t", 1}, {"s", 0.9f}, {"sp", 7}, {"cat", 8}, {"y", 3}};
  auto m = quantize(g, th);
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Graph& q = m->graph;
  // MaxPool and Reshape keep relu_a's scale and signedness, whatever their own thresholds.
  EXPECT_EQ(scale_of(q, "p"), scale_of(q, "a"));
  EXPECT_EQ(scale_of(q, "r"), scale_of(q, "a"));
  EXPECT_EQ(zp_type(q, "r"), DType::kUInt8);
  EXPECT_EQ(scale_of(q, "a"), static_cast<float>(2.0 / 255.0));
  // The Concat: T = max(2 via r, 1 via t, 0.9 via sp) = 2; signed since tanh is. t's
  // producer feeds only the Concat, so it takes the Concat's scale (a copy in integer);
  // r and sp come through pass-through ops and keep theirs (the Concat requantizes them).
  EXPECT_EQ(info(*m, "cat").threshold, 2.f);
  EXPECT_FALSE(info(*m, "cat").output_unsigned);
  EXPECT_EQ(scale_of(q, "cat"), static_cast<float>(2.0 / 127.0));
  EXPECT_EQ(scale_of(q, "t"), scale_of(q, "cat"));
  EXPECT_EQ(zp_type(q, "t"), DType::kInt8);
  EXPECT_EQ(info(*m, "tanh").threshold, 2.f);
  EXPECT_EQ(scale_of(q, "sp"), static_cast<float>(0.9 / 255.0));
  EXPECT_EQ(zp_type(q, "sp"), DType::kUInt8);
  // Every consumer reads dequantized values.
  const Node* cn = find_node(q, "cat");
  EXPECT_EQ(input_name(q, *cn, 0), "r_dequantized");
  EXPECT_EQ(input_name(q, *cn, 1), "t_dequantized");
  EXPECT_EQ(input_name(q, *cn, 2), "sp_dequantized");
  // A standalone Relu is a table op: DQ -> Relu -> Q; the graph output keeps its name y and
  // the Relu writes y_QuantizeLinear_Input.
  EXPECT_EQ(input_name(q, *find_node(q, "out_relu"), 0), "cat_dequantized");
  EXPECT_EQ(q.value(q.outputs[0]).name, "y");
  EXPECT_EQ(producer_of(q, "y")->op, OpId::DequantizeLinear);
  EXPECT_EQ(input_name(q, *find_node(q, "y_QuantizeLinear"), 0), "y_QuantizeLinear_Input");
  EXPECT_EQ(m->value_map.at("y"), "y");
  EXPECT_EQ(info(*m, "out_relu").group, "");
}

TEST(Quantize, ConcatOfUnsignedInputsIsUnsigned) {
  Builder b;
  const ValueId x = b.input("x", {1, 2, 4, 4});
  const ValueId r = b.node("Relu", "r", {x}, "rv");
  const ValueId c = b.node("Clip", "c", {x, b.constant("lo", Tensor::scalar<float>(0.f)), b.constant("hi", Tensor::scalar<float>(6.f))}, "cv");
  const ValueId cat = b.node("Concat", "cat", {r, c}, "cat", {{"axis", int64_t{1}}});
  const ValueId y = b.node("Conv", "conv", {cat, b.random_constant("w", {2, 4, 1, 1}, 9)}, "y");
  auto m = quantize(b.finish({y}), {{"x", 1}, {"rv", 1}, {"cv", 6}, {"cat", 5}, {"y", 1}});
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(zp_type(m->graph, "cat"), DType::kUInt8);
  EXPECT_EQ(scale_of(m->graph, "cat"), static_cast<float>(6.0 / 255.0));
  // Both producers feed only the Concat: both share its scale.
  EXPECT_EQ(scale_of(m->graph, "rv"), scale_of(m->graph, "cat"));
  EXPECT_EQ(scale_of(m->graph, "cv"), scale_of(m->graph, "cat"));
}

TEST(Quantize, Signedness) {
  Builder b;
  const ValueId x = b.input("x", {1, 2, 4, 4});
  const auto lo = [&](float v, const std::string& n) { return b.constant(n, Tensor::scalar<float>(v)); };
  std::vector<ValueId> outs = {
      b.node("Clip", "clip0", {x, lo(0.f, "z"), lo(6.f, "six")}, "clip0"),      // min 0: unsigned
      b.node("Clip", "clipm", {x, lo(-1.f, "m1"), lo(1.f, "one")}, "clipm"),    // min -1: signed
      b.node("Sigmoid", "sig", {x}, "sig"),                                     // unsigned
      b.node("HardSigmoid", "hsig", {x}, "hsig"),                               // unsigned
      b.node("Tanh", "tanh", {x}, "tanh"),                                      // signed
      b.node("MaxPool", "mp", {x}, "mp", {{"kernel_shape", std::vector<int64_t>{2, 2}}}),  // signed input
      b.node("LeakyRelu", "lrelu", {x}, "lrelu"),                               // signed
  };
  const ValueId r1 = b.node("Relu", "ra", {x}, "ra");
  const ValueId r2 = b.node("Relu", "rb", {x}, "rb");
  outs.push_back(b.node("Add", "add_nn", {r1, r2}, "add_nn"));  // sum of two Relu outputs: unsigned
  outs.push_back(b.node("Add", "add_s", {r1, x}, "add_s"));     // signed
  // A Conv of a non-negative input with no negative weight or bias (a preprocess node's
  // scaling of uint8 pixels) is unsigned; one negative weight or bias, or a signed input, is not.
  const auto vec = [&](const std::string& n, std::vector<int64_t> dims, std::vector<float> v) {
    return b.constant(n, Tensor::from_vector<float>(std::move(dims), std::move(v)));
  };
  const ValueId wpos = vec("wpos", {2, 2, 1, 1}, {0.5f, 0.f, 1.f, 2.f});
  // (Each feeds a MaxPool: a Conv that writes a graph output keeps its int32 precision.)
  std::vector<ValueId> convs = {
      b.node("Conv", "conv_nn", {r1, wpos, vec("bpos", {2}, {0.f, 0.25f})}, "conv_nn"),
      b.node("Conv", "conv_nb", {r1, wpos, vec("bneg", {2}, {0.f, -0.25f})}, "conv_nb"),
      b.node("Conv", "conv_nw", {r1, vec("wneg", {2, 2, 1, 1}, {0.5f, -0.01f, 1.f, 2.f})}, "conv_nw"),
      b.node("Conv", "conv_sx", {x, wpos}, "conv_sx")};
  std::map<std::string, float> th = {{"x", 1}, {"ra", 1}, {"rb", 1}};
  for (ValueId c : convs) {
    const std::string n = b.g.value(c).name;
    th[n] = 1;
    outs.push_back(b.node("MaxPool", n + "_mp", {c}, n + "_mp", {{"kernel_shape", std::vector<int64_t>{1, 1}}}));
  }
  for (ValueId o : outs) th[b.g.value(o).name] = 1;
  auto m = quantize(b.finish(outs), th);
  ASSERT_TRUE(m.ok()) << m.status().message();
  for (const auto& [name, is_unsigned] : std::vector<std::pair<std::string, bool>>{
           {"clip0", true}, {"clipm", false}, {"sig", true}, {"hsig", true}, {"tanh", false}, {"mp", false},
           {"lrelu", false}, {"add_nn", true}, {"add_s", false}, {"conv_nn", true}, {"conv_nb", false},
           {"conv_nw", false}, {"conv_sx", false}}) {
    EXPECT_EQ(info(*m, name).output_unsigned, is_unsigned) << name;
    EXPECT_EQ(zp_type(m->graph, name), is_unsigned ? DType::kUInt8 : DType::kInt8) << name;
  }
}

// x -> conv -> softmax (CPU) -> conv2 -> y
Graph conv_softmax_conv() {
  Builder b;
  const ValueId x = b.input("x", {1, 3, 4, 4});
  const ValueId c = b.node("Conv", "conv", {x, b.random_constant("w", {3, 3, 1, 1}, 11)}, "c");
  const ValueId s = b.node("Softmax", "softmax", {c}, "s", {{"axis", int64_t{1}}});
  const ValueId y = b.node("Conv", "conv2", {s, b.random_constant("w2", {2, 3, 1, 1}, 12), b.random_constant("b2", {2}, 13)}, "y");
  return b.finish({y});
}

TEST(Quantize, CpuSoftmaxHasQdqBorders) {
  auto m = quantize(conv_softmax_conv(), {{"x", 1}, {"c", 4}, {"s", 1}, {"y", 2}});
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Graph& q = m->graph;
  EXPECT_EQ(info(*m, "softmax").where, Placement::kCpu);
  EXPECT_TRUE(std::isnan(info(*m, "softmax").threshold));
  EXPECT_EQ(info(*m, "conv").subgraph, 0);
  EXPECT_EQ(info(*m, "conv2").subgraph, 1);
  EXPECT_EQ(m->num_subgraphs, 2);
  // In: the Softmax reads conv's dequantized output in float. Out: its float output is
  // quantized (unsigned: Softmax >= 0) for the NPU's conv2.
  EXPECT_EQ(input_name(q, *find_node(q, "softmax"), 0), "c_dequantized");
  EXPECT_EQ(input_name(q, *find_node(q, "s_QuantizeLinear"), 0), "s");
  EXPECT_EQ(zp_type(q, "s"), DType::kUInt8);
  EXPECT_EQ(scale_of(q, "s"), static_cast<float>(1.0 / 255.0));
  EXPECT_EQ(input_name(q, *find_node(q, "conv2"), 0), "s_dequantized");
}

TEST(Quantize, CpuOpConstantsStayFloat) {
  // Mul by a constant on the CPU keeps the float constant; on the NPU it is int8 per tensor.
  for (bool cpu : {true, false}) {
    Builder b;
    const ValueId x = b.input("x", {1, 2, 2, 2});
    const ValueId k = b.constant("k", Tensor::from_vector<float>({1, 2, 1, 1}, {0.5f, -2.54f}));
    const ValueId y = b.node("Mul", "mul", {x, k}, "y");
    const ValueId z = b.node("Relu", "relu", {y}, "z");
    QuantizeOptions o;
    if (cpu) o.run_on_cpu = {"mul"};
    auto m = quantize(b.finish({z}), {{"x", 1}, {"y", 3}, {"z", 3}}, o);
    ASSERT_TRUE(m.ok()) << m.status().message();
    const Graph& q = m->graph;
    const Node* mul = find_node(q, "mul");
    if (cpu) {
      EXPECT_EQ(input_name(q, *mul, 1), "k");
      EXPECT_EQ(input_name(q, *mul, 0), "x");  // x is read only by the CPU: stays float
      EXPECT_EQ(info(*m, "mul").where, Placement::kCpu);
      EXPECT_EQ(info(*m, "mul").reason, "run_on_cpu");
    } else {
      EXPECT_EQ(input_name(q, *mul, 1), "k_dequantized");
      EXPECT_EQ(constant_of(q, "k_quantized").to_int64(), (std::vector<int64_t>{25, -127}));
      EXPECT_FLOAT_EQ(scale_of(q, "k"), 0.02f);
    }
  }
}

TEST(Quantize, RunOnCpuBreaksTheGroup) {
  QuantizeOptions o;
  o.run_on_cpu = {"relu1"};
  auto m = quantize(conv_relu_conv(), kConvThresholds, o);
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Graph& q = m->graph;
  EXPECT_EQ(info(*m, "relu1").where, Placement::kCpu);
  EXPECT_EQ(info(*m, "conv1").group, "");
  // conv1 now requantizes to its own threshold (2, signed) and the CPU Relu reads it.
  EXPECT_EQ(scale_of(q, "c1"), static_cast<float>(2.0 / 127.0));
  EXPECT_EQ(input_name(q, *find_node(q, "relu1"), 0), "c1_dequantized");
  EXPECT_EQ(m->num_subgraphs, 2);
}

TEST(Quantize, RunOnNpuAndNameErrors) {
  QuantizeOptions o;
  o.run_on_npu = {"softmax"};
  auto m = quantize(conv_softmax_conv(), {{"x", 1}, {"c", 4}, {"s", 1}, {"y", 2}}, o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "quantize: Softmax 'softmax': run_on_npu: no integer form for Softmax");
  o.run_on_npu = {"nope"};
  m = quantize(conv_softmax_conv(), {}, o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "quantize: run_on_npu: no node named 'nope'");
  o.run_on_npu = {"conv"};
  o.run_on_cpu = {"conv"};
  m = quantize(conv_softmax_conv(), {}, o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("'conv' is in both run_on_cpu and run_on_npu"), std::string::npos);
}

TEST(Quantize, RunOnNpuOverridesTheMarch) {
  // The generic march puts Squeeze on the CPU; run_on_npu moves it (a pass-through op).
  const TargetSpec spec = generic_march();
  Builder b;
  const ValueId x = b.input("x", {1, 2, 1, 1});
  const ValueId c = b.node("Conv", "conv", {x, b.random_constant("w", {2, 2, 1, 1}, 3)}, "c");
  const ValueId s = b.node("Squeeze", "sq", {c, b.constant("axes", Tensor::from_vector<int64_t>({2}, {2, 3}))}, "s");
  const ValueId y = b.node("Relu", "relu", {s}, "y");
  const Graph g = b.finish({y});
  QuantizeOptions o;
  o.target = &spec;
  auto cpu = quantize(g, {{"x", 1}, {"c", 1}, {"s", 1}, {"y", 1}}, o);
  ASSERT_TRUE(cpu.ok()) << cpu.status().message();
  EXPECT_EQ(info(*cpu, "sq").where, Placement::kCpu);
  EXPECT_EQ(cpu->num_subgraphs, 2);
  o.run_on_npu = {"sq"};
  auto npu = quantize(g, {{"x", 1}, {"c", 1}, {"s", 1}, {"y", 1}}, o);
  ASSERT_TRUE(npu.ok()) << npu.status().message();
  EXPECT_EQ(info(*npu, "sq").where, Placement::kNpu);
  EXPECT_EQ(npu->num_subgraphs, 1);
  EXPECT_EQ(scale_of(npu->graph, "s"), scale_of(npu->graph, "c"));  // pass-through on the NPU
}

TEST(Quantize, MarchLimitKeepsConvFloat) {
  // A 9x9 kernel exceeds the generic march's 7x7: the Conv runs on the CPU in float with
  // its float weights, and its input stays float (nothing on the NPU reads it).
  const TargetSpec spec = generic_march();
  Builder b;
  const ValueId x = b.input("x", {1, 1, 9, 9});
  const ValueId c = b.node("Conv", "big", {x, b.random_constant("w", {2, 1, 9, 9}, 4)}, "c");
  const ValueId y = b.node("Relu", "relu", {c}, "y");
  QuantizeOptions o;
  o.target = &spec;
  auto m = quantize(b.finish({y}), {{"c", 1}, {"y", 1}}, o);
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Graph& q = m->graph;
  EXPECT_EQ(info(*m, "big").where, Placement::kCpu);
  EXPECT_EQ(input_name(q, *find_node(q, "big"), 1), "w");
  EXPECT_EQ(input_name(q, *find_node(q, "big"), 0), "x");
  EXPECT_EQ(input_name(q, *find_node(q, "relu"), 0), "c_dequantized");
}

TEST(Quantize, ImageInputCastBecomesDequantize) {
  Builder b;
  const ValueId img = b.input("img", {1, 3, 4, 4}, DType::kUInt8);
  const ValueId f = b.node("Cast", "PREPROCESS_img_cast", {img}, "img_f", {{"to", int64_t{1}}});
  const ValueId y = b.node("Conv", "conv", {f, b.random_constant("w", {2, 3, 1, 1}, 8)}, "y");
  const TargetSpec spec = generic_march();
  QuantizeOptions o;
  o.target = &spec;
  auto m = quantize(b.finish({y}), {{"y", 1}}, o);  // no threshold needed for the image
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Graph& q = m->graph;
  const Node* dq = find_node(q, "PREPROCESS_img_cast");
  ASSERT_NE(dq, nullptr);
  EXPECT_EQ(dq->op, OpId::DequantizeLinear);
  EXPECT_EQ(input_name(q, *dq, 0), "img");
  EXPECT_EQ(q.value(dq->inputs[1]).constant->data<float>()[0], 1.f);
  EXPECT_EQ(q.value(dq->inputs[2]).constant->dtype(), DType::kUInt8);
  EXPECT_EQ(input_name(q, *find_node(q, "conv"), 0), "img_f");
  EXPECT_EQ(q.value(q.inputs[0]).dtype, DType::kUInt8);
  EXPECT_EQ(info(*m, "PREPROCESS_img_cast").where, Placement::kNpu);
  EXPECT_TRUE(info(*m, "PREPROCESS_img_cast").output_unsigned);
  EXPECT_EQ(m->num_subgraphs, 1);
  // Bias-free conv: its input scale is exactly 1.
  EXPECT_EQ(m->value_map.at("img_f"), "img_f");
}

TEST(Quantize, AddReluGroupAndSharedHighPrecisionOutput) {
  // conv's output is a graph output (float, from the accumulator) and also read by the Add:
  // the Add reads a Q/DQ pair after it. add + relu is one group.
  Builder b;
  const ValueId x = b.input("x", {1, 2, 3, 3});
  const ValueId c = b.node("Conv", "conv", {x, b.random_constant("w", {2, 2, 1, 1}, 31)}, "c");
  const ValueId a = b.node("Add", "add", {c, x}, "a");
  const ValueId y = b.node("Relu", "relu", {a}, "y");
  auto m = quantize(b.finish({c, y}), {{"x", 1}, {"c", 2}, {"a", 3}, {"y", 2.5f}});
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Graph& q = m->graph;
  EXPECT_EQ(producer_of(q, "c")->name, "conv");
  EXPECT_EQ(q.value(q.outputs[0]).name, "c");
  EXPECT_EQ(input_name(q, *find_node(q, "add"), 0), "c_dequantized");
  EXPECT_EQ(scale_of(q, "c"), static_cast<float>(2.0 / 127.0));
  EXPECT_TRUE(std::isnan(info(*m, "conv").threshold));
  EXPECT_EQ(m->value_map.at("c"), "c");
  EXPECT_EQ(input_name(q, *find_node(q, "relu"), 0), "a");
  EXPECT_EQ(info(*m, "add").group, "add");
  EXPECT_EQ(info(*m, "relu").group, "add");
  EXPECT_EQ(info(*m, "add").threshold, 2.5f);
  EXPECT_EQ(zp_type(q, "y"), DType::kUInt8);
}

TEST(Quantize, NoIntegerFormMovesToCpuWithReason) {
  // The generic march runs PRelu on the NPU; with a slope computed at run time it has no
  // integer form (a uniform slope is a table, a per-channel one a table per channel, below).
  const TargetSpec spec = generic_march();
  Builder b;
  const ValueId x = b.input("x", {1, 2, 3, 3});
  const ValueId c = b.node("Conv", "conv", {x, b.random_constant("w", {2, 2, 1, 1}, 32)}, "c");
  const ValueId pr = b.node("PRelu", "prelu", {c, b.input("slope", {2, 1, 1})}, "pr");
  const ValueId y = b.node("Conv", "conv2", {pr, b.random_constant("w2", {2, 2, 1, 1}, 33)}, "y");
  QuantizeOptions o;
  o.target = &spec;
  auto m = quantize(b.finish({y}), {{"x", 1}, {"c", 2}, {"pr", 2}}, o);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(info(*m, "prelu").where, Placement::kCpu);
  EXPECT_EQ(info(*m, "prelu").reason,
            "no integer form for PRelu with a slope computed at run time (a table needs constant slopes)");
  EXPECT_EQ(input_name(m->graph, *find_node(m->graph, "prelu"), 1), "slope");  // the float input
  EXPECT_EQ(m->num_subgraphs, 2);

  Builder u;
  const ValueId ux = u.input("x", {1, 2, 3, 3});
  const ValueId uc = u.node("Conv", "conv", {ux, u.random_constant("w", {2, 2, 1, 1}, 32)}, "c");
  const ValueId up = u.node("PRelu", "prelu", {uc, u.constant("slope", Tensor::from_vector<float>({2, 1, 1}, {0.1f, 0.1f}))}, "pr");
  auto um = quantize(u.finish({up}), {{"x", 1}, {"c", 2}, {"pr", 2}}, o);
  ASSERT_TRUE(um.ok()) << um.status().message();
  EXPECT_EQ(info(*um, "prelu").where, Placement::kNpu);
  EXPECT_EQ(um->num_subgraphs, 1);

  Builder pc;  // a slope per channel
  const ValueId px = pc.input("x", {1, 2, 3, 3});
  const ValueId pcv = pc.node("Conv", "conv", {px, pc.random_constant("w", {2, 2, 1, 1}, 32)}, "c");
  const ValueId pp =
      pc.node("PRelu", "prelu", {pcv, pc.constant("slope", Tensor::from_vector<float>({2, 1, 1}, {0.1f, 0.2f}))}, "pr");
  auto pm = quantize(pc.finish({pp}), {{"x", 1}, {"c", 2}, {"pr", 2}}, o);
  ASSERT_TRUE(pm.ok()) << pm.status().message();
  EXPECT_EQ(info(*pm, "prelu").where, Placement::kNpu);
  EXPECT_EQ(pm->num_subgraphs, 1);
}

TEST(Quantize, MalformedGraphIsAnErrorNotACrash) {
  Graph g = conv_relu_conv();
  g.nodes[1].inputs[0] = 999;  // a value id out of range
  auto m = quantize(g, kConvThresholds);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message().rfind("quantize: the float graph: ", 0), 0u) << m.status().message();
}

TEST(Quantize, PreprocessChainOnTheNpu) {
  // The preprocess node's shape (passes/preprocess): uint8 NHWC image -> Cast -> Transpose
  // -> color 1x1 Conv (+bias) -> Clip(0, 255) -> depthwise 1x1 normalization Conv -> model.
  // With the generic march all of it is one NPU subgraph; the Transpose keeps the image's
  // exact scale 1, and the QDQ graph stays within the error int8 weights allow.
  Builder b;
  const ValueId img = b.input("img", {1, 4, 4, 3}, DType::kUInt8);
  const ValueId f = b.node("Cast", "PREPROCESS_img_cast", {img}, "f", {{"to", int64_t{1}}});
  const ValueId t = b.node("Transpose", "PREPROCESS_img_transpose", {f}, "t", {{"perm", std::vector<int64_t>{0, 3, 1, 2}}});
  const ValueId color = b.node("Conv", "PREPROCESS_img_color",
                               {t, b.constant("cw", Tensor::from_vector<float>({3, 3, 1, 1}, {1, 0, 1.402f, 1, -0.344f, -0.714f, 1, 1.772f, 0})),
                                b.constant("cb", Tensor::from_vector<float>({3}, {-179.4f, 135.5f, -226.8f}))},
                               "color");
  const ValueId clip = b.node("Clip", "PREPROCESS_img_clip", {color, b.constant("lo", Tensor::scalar<float>(0)), b.constant("hi", Tensor::scalar<float>(255))}, "rgb");
  const ValueId norm = b.node("Conv", "PREPROCESS_img", {clip, b.constant("nw", Tensor::from_vector<float>({3, 1, 1, 1}, {0.017f, 0.0175f, 0.0174f})),
                                                           b.constant("nb", Tensor::from_vector<float>({3}, {-2.1f, -2.0f, -1.8f}))},
                              "norm", {{"group", int64_t{3}}});
  const ValueId y = b.node("Relu", "relu", {norm}, "y");
  const Graph g = b.finish({y});
  const TargetSpec spec = generic_march();
  QuantizeOptions o;
  o.target = &spec;
  auto m = quantize(g, {{"t", 1000}, {"color", 400}, {"rgb", 255}, {"norm", 2.5f}, {"y", 2.5f}}, o);
  ASSERT_TRUE(m.ok()) << m.status().message();
  const Graph& q = m->graph;
  EXPECT_EQ(m->num_subgraphs, 1);
  EXPECT_EQ(scale_of(q, "t"), 1.f);
  EXPECT_EQ(zp_type(q, "t"), DType::kUInt8);
  EXPECT_EQ(scale_of(q, "rgb"), 1.f);  // Clip(0, 255) fused into the color Conv: 255 / 255
  EXPECT_EQ(info(*m, "PREPROCESS_img_clip").group, "PREPROCESS_img_color");
  // Numerics on a seeded random image (seed 5).
  Tensor x(DType::kUInt8, {1, 4, 4, 3});
  const Tensor r = testing::random_tensor({48}, 5, 0.f, 256.f);
  for (size_t i = 0; i < 48; ++i) x.data<uint8_t>()[i] = static_cast<uint8_t>(r.data<float>()[i]);
  auto fe = FloatEngine::create(g);
  auto qe = FloatEngine::create(q);
  ASSERT_TRUE(fe.ok() && qe.ok());
  auto ref = fe->run({x});
  auto out = qe->run({x});
  ASSERT_TRUE(ref.ok() && out.ok()) << out.status().message();
  // Error budget per element: the color matrix as int8 codes (each coefficient off by at
  // most half a step, 1.772 / 127 / 2, times 3 taps of up to 255) plus rgb rounded to
  // integers (0.5), times the normalization scale 0.0175; plus half a step of y (2.5 / 255).
  // About 0.1, against errors of 1 and more from a wrong scale or a missing Q/DQ.
  const double tol = (1.772 / 127 / 2 * 255 * 3 + 0.5) * 0.0175 + 2.5 / 255 / 2;
  EXPECT_TRUE(testing::tensors_near((*out)[0], (*ref)[0], tol, 0)) << "seed 5";
}

TEST(Quantize, ThresholdErrorsNameTheNode) {
  auto m = quantize(conv_relu_conv(), {{"c1", 2.f}, {"r1", 1.5f}, {"y", 3.f}});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "quantize: Conv 'conv1': no threshold for input 'x'");
  m = quantize(conv_relu_conv(), {{"x", 1.f}, {"y", 3.f}});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "quantize: Relu 'relu1': no threshold for output 'r1'");
  m = quantize(conv_relu_conv(), {{"x", 1.f}, {"r1", 0.f}});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "quantize: Relu 'relu1': threshold of 'r1' is 0: must be a finite number > 0");
  m = quantize(conv_relu_conv(), {{"x", std::numeric_limits<float>::quiet_NaN()}, {"r1", 1.f}});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("threshold of 'x' is nan"), std::string::npos) << m.status().message();
}

// int16 outputs: the named unit's output gets an int16 Q/DQ pair at scale T/32767 with T
// raised to int16_thresholds' value; a unit whose output an 8-bit-only op reads is an error
// naming that op; the node table says which units can have one.
TEST(Quantize, Int16OutputsAndTheirLimits) {
  const Graph g = conv_relu_conv();
  QuantizeOptions o;
  o.int16_outputs = {"relu1"};  // the group's tail names the group too
  o.int16_thresholds = {{"r1", 4.f}, {"c1", 100.f}};  // c1 is inside the group: unused
  auto m = quantize(g, kConvThresholds, o);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(zp_type(m->graph, "r1"), DType::kInt16);
  EXPECT_EQ(scale_of(m->graph, "r1"), static_cast<float>(4.0 / 32767.0));
  EXPECT_TRUE(info(*m, "conv1").output_int16);
  EXPECT_FALSE(info(*m, "conv1").output_unsigned);
  EXPECT_EQ(info(*m, "conv1").threshold, 4.f);
  EXPECT_EQ(info(*m, "conv1").value, "r1");
  EXPECT_TRUE(info(*m, "conv1").int16_capable);
  EXPECT_FALSE(info(*m, "conv2").int16_capable);  // its output is the float graph output
  EXPECT_EQ(zp_type(m->graph, "x"), DType::kInt8);  // other values keep 8 bits
  // A threshold below the calibrated one is never taken.
  o.int16_thresholds = {{"r1", 0.5f}};
  auto lower = quantize(g, kConvThresholds, o);
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(info(*lower, "conv1").threshold, 1.5f);
  // Written as ONNX Runtime's com.microsoft Q/DQ (the default domain has int16 from opset 21).
  auto bytes = export_onnx_bytes(m->graph);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_NE(bytes->find("com.microsoft"), std::string::npos);
  // Errors name the node and the reason.
  QuantizeOptions bad;
  bad.int16_outputs = {"conv2"};
  auto e = quantize(g, kConvThresholds, bad);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("conv2"), std::string::npos) << e.status().message();
  EXPECT_NE(e.status().message().find("not requantized"), std::string::npos) << e.status().message();
  bad.int16_outputs = {"nope"};
  e = quantize(g, kConvThresholds, bad);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("int16: no node named 'nope'"), std::string::npos) << e.status().message();
  // A MaxPool reads 8-bit codes only.
  Builder b;
  const ValueId x = b.input("x", {1, 2, 6, 6});
  const ValueId c = b.node("Conv", "conv", {x, b.random_constant("w", {4, 2, 3, 3}, 5)}, "c",
                           {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId mp = b.node("MaxPool", "pool", {c}, "p", {{"kernel_shape", std::vector<int64_t>{2, 2}}});
  const ValueId y = b.node("Conv", "conv2", {mp, b.random_constant("w2", {3, 4, 1, 1}, 6)}, "y");
  const Graph pg = b.finish({y});
  QuantizeOptions at_pool;
  at_pool.int16_outputs = {"conv"};
  e = quantize(pg, {{"x", 1.f}, {"c", 2.f}, {"p", 2.f}, {"y", 3.f}}, at_pool);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("MaxPool 'pool'"), std::string::npos) << e.status().message();
}

TEST(Quantize, DeterministicAndExportable) {
  const Graph g = conv_softmax_conv();
  const std::map<std::string, float> th = {{"x", 1}, {"c", 4}, {"s", 1}, {"y", 2}};
  auto a = quantize(g, th);
  auto b = quantize(g, th);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(dump_graph(a->graph), dump_graph(b->graph));
  auto ea = export_onnx_bytes(a->graph);
  auto eb = export_onnx_bytes(b->graph);
  ASSERT_TRUE(ea.ok()) << ea.status().message();
  ASSERT_TRUE(eb.ok());
  EXPECT_EQ(*ea, *eb);
}

// A weight cache changes nothing but the work: the same ONNX bytes with and without it, at
// other thresholds too, and the second quantization takes both weights from it.
TEST(Quantize, WeightCacheGivesTheSameGraph) {
  const Graph g = conv_relu_conv();
  QuantizeOptions cached;
  cached.weight_cache = std::make_shared<WeightQuantCache>();
  std::map<std::string, float> other = kConvThresholds;
  other.at("r1") = 0.75f;
  for (const auto& th : {kConvThresholds, other}) {
    auto plain = quantize_graph(g, th, {});
    auto with = quantize_graph(g, th, cached);
    ASSERT_TRUE(plain.ok() && with.ok());
    auto ep = export_onnx_bytes(plain->graph);
    auto ew = export_onnx_bytes(with->graph);
    ASSERT_TRUE(ep.ok() && ew.ok());
    EXPECT_EQ(*ep, *ew);
  }
  EXPECT_EQ(cached.weight_cache->hits(), 2u);  // w1 and w2, on the second call
  // Per tensor is another entry (another axis key).
  cached.per_channel = false;
  auto pt = quantize_graph(g, kConvThresholds, cached);
  auto pt_plain = quantize_graph(g, kConvThresholds, {.per_channel = false});
  ASSERT_TRUE(pt.ok() && pt_plain.ok());
  EXPECT_EQ(*export_onnx_bytes(pt->graph), *export_onnx_bytes(pt_plain->graph));
  EXPECT_EQ(cached.weight_cache->hits(), 2u);
}

}  // namespace
}  // namespace qmap
