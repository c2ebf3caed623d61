// take_thresholds_from_qdq on hand-built QDQ graphs: thresholds, the float graph left
// behind (ops, names, numerics against the same graph built in float) and the errors.
#include "calib/qdq_thresholds.h"

#include <gtest/gtest.h>

#include "calib/calib_test_util.h"
#include "engine/float_engine.h"
#include "import/onnx/onnx_export.h"
#include "import/onnx/onnx_import.h"
#include "ops/infer.h"
#include "test_util.h"

namespace qmap {
namespace {

using calib_testing::add_node;

// Q -> DQ of `v` with a scalar scale and zero point of type ZP; returns the DQ output.
template <typename ZP>
ValueId qdq(Graph& g, ValueId v, float scale, ZP zp) {
  const std::string base = g.value(v).name;
  const ValueId s = g.add_constant(base + "_scale", Tensor::scalar<float>(scale));
  const ValueId z = g.add_constant(base + "_zp", Tensor::scalar<ZP>(zp));
  const ValueId q = g.add_value(base + "_quantized", dtype_of<ZP>());
  const ValueId d = g.add_value(base + "_dequantized", DType::kFloat32);
  add_node(g, "QuantizeLinear", {v, s, z}, {q});
  add_node(g, "DequantizeLinear", {q, s, z}, {d});
  return d;
}

const std::vector<int8_t> kW = {10, -20, 30, -40, 50, -60, 70, -80, 90, -100, 110, -120};  // [3, 4, 1, 1]
const std::vector<float> kWScale = {0.01f, 0.02f, 0.03f};
const std::vector<int32_t> kB = {100, -200, 300};

// x[1,4,3,3] -> QDQ(int8, 0.02) -> Conv(DQ(W int8 per-channel), DQ(B int32)) -> c
//   -> QDQ(int8, 0.1) -> Relu -> r -> QDQ(uint8, 0.05) -> graph output "out".
Graph qdq_model() {
  Graph g;
  g.name = "qat";
  const ValueId x = g.add_value("x", DType::kFloat32, Dims{1, 4, 3, 3});
  g.inputs = {x};
  const ValueId xd = qdq<int8_t>(g, x, 0.02f, 0);
  const ValueId wq = g.add_constant("w_quantized", Tensor::from_vector<int8_t>({3, 4, 1, 1}, kW));
  const ValueId ws = g.add_constant("w_scale", Tensor::from_vector<float>({3}, kWScale));
  const ValueId w = g.add_value("w", DType::kFloat32);
  add_node(g, "DequantizeLinear", {wq, ws}, {w}, {{"axis", int64_t{0}}});
  const ValueId bq = g.add_constant("b_quantized", Tensor::from_vector<int32_t>({3}, kB));
  const ValueId bs = g.add_constant("b_scale", Tensor::from_vector<float>({3}, {0.0002f, 0.0004f, 0.0006f}));
  const ValueId b = g.add_value("b", DType::kFloat32);
  add_node(g, "DequantizeLinear", {bq, bs}, {b}, {{"axis", int64_t{0}}});
  const ValueId c = g.add_value("c", DType::kFloat32);
  add_node(g, "Conv", {xd, w, b}, {c});
  const ValueId cd = qdq<int8_t>(g, c, 0.1f, 0);
  const ValueId r = g.add_value("r", DType::kFloat32);
  add_node(g, "Relu", {cd}, {r});
  const ValueId out = qdq<uint8_t>(g, r, 0.05f, 0);
  g.value(out).name = "out";
  g.outputs = {out};
  g.rebuild_producers();
  return g;
}

// The same model in float: what the QDQ model computes without its activation fake-quant.
Graph float_model() {
  Graph g;
  const ValueId x = g.add_value("x", DType::kFloat32, Dims{1, 4, 3, 3});
  g.inputs = {x};
  std::vector<float> w(kW.size()), b(kB.size());
  for (size_t i = 0; i < kW.size(); ++i) w[i] = static_cast<float>(kW[i]) * kWScale[i / 4];
  const float bs[] = {0.0002f, 0.0004f, 0.0006f};
  for (size_t i = 0; i < kB.size(); ++i) b[i] = static_cast<float>(kB[i]) * bs[i];
  const ValueId wv = g.add_constant("w", Tensor::from_vector<float>({3, 4, 1, 1}, w));
  const ValueId bv = g.add_constant("b", Tensor::from_vector<float>({3}, b));
  const ValueId c = g.add_value("c", DType::kFloat32);
  const ValueId r = g.add_value("out", DType::kFloat32);
  add_node(g, "Conv", {x, wv, bv}, {c});
  add_node(g, "Relu", {c}, {r});
  g.outputs = {r};
  g.rebuild_producers();
  return g;
}

std::vector<std::string> op_types(const Graph& g) {
  std::vector<std::string> ops;
  for (const Node& n : g.nodes) ops.push_back(n.op_type);
  return ops;
}

void expect_float_graph_from_qdq(Graph g, const std::string& what) {
  auto t = take_thresholds_from_qdq(g);
  ASSERT_TRUE(t.ok()) << what << ": " << t.status().message();
  const Thresholds expect = {{"x", 0.02f * 127}, {"c", 0.1f * 127}, {"out", 0.05f * 255}};
  ASSERT_EQ(t->size(), expect.size()) << what;
  for (const auto& [name, thr] : expect) EXPECT_FLOAT_EQ(t->at(name), thr) << what << " " << name;
  EXPECT_EQ(op_types(g), (std::vector<std::string>{"Conv", "Relu"})) << what;
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.value(g.inputs[0]).name, "x");
  EXPECT_EQ(g.value(g.outputs.at(0)).name, "out");
  // No leftover integer constants or quantized values.
  for (const Value& v : g.values) EXPECT_EQ(v.dtype, DType::kFloat32) << what << " " << v.name;

  constexpr uint32_t kSeed = 12;
  const Tensor x = testing::random_tensor({1, 4, 3, 3}, kSeed, -2.f, 2.f);
  auto e1 = FloatEngine::create(g);
  ASSERT_TRUE(e1.ok()) << e1.status().message();
  auto got = e1->run({x});
  ASSERT_TRUE(got.ok()) << got.status().message();
  auto e2 = FloatEngine::create(float_model());
  ASSERT_TRUE(e2.ok()) << e2.status().message();
  auto want = e2->run({x});
  ASSERT_TRUE(want.ok());
  // Same weights (DequantizeLinear is exact: int * float32 scale), same float kernels.
  EXPECT_TRUE(testing::tensors_near((*got)[0], (*want)[0], 0, 0)) << what << " seed " << kSeed;
}

TEST(CalibQdq, ThresholdsAndFloatGraph) {
  // As imported: shape inference ran, and has already folded the small weight DQs.
  Graph inferred = qdq_model();
  ASSERT_TRUE(infer_shapes(inferred).ok());
  expect_float_graph_from_qdq(inferred, "after infer_shapes");
  // Without shape inference the weight DQs are evaluated by take_thresholds_from_qdq itself.
  expect_float_graph_from_qdq(qdq_model(), "no shape inference");
}

TEST(CalibQdq, ThroughOnnxExportAndImport) {
  // The form take_thresholds_from_qdq meets in makertbin: a QDQ ONNX file as imported.
  Graph model = qdq_model();
  ASSERT_TRUE(infer_shapes(model).ok());
  const std::string path = ::testing::TempDir() + "/calib_qdq_model.onnx";
  ASSERT_TRUE(export_onnx(model, path).ok());
  auto imported = import_onnx(path);
  ASSERT_TRUE(imported.ok()) << imported.status().message();
  expect_float_graph_from_qdq(*imported, "exported and imported");
}

TEST(CalibQdq, FakeQuantizedFloatWeightsAreFolded) {
  Graph g;
  const ValueId x = g.add_value("x", DType::kFloat32, Dims{1, 2});
  g.inputs = {x};
  // Q(float W) -> DQ with scale 0.5: 0.74 -> 1 -> 0.5, -1.3 -> -3 -> -1.5 (round half even).
  const ValueId w = g.add_constant("w", Tensor::from_vector<float>({2, 2}, {0.74f, -1.3f, 0.25f, 0.75f}));
  const ValueId wd = qdq<int8_t>(g, w, 0.5f, 0);
  const ValueId y = g.add_value("y", DType::kFloat32);
  add_node(g, "MatMul", {x, wd}, {y});
  g.outputs = {y};
  g.rebuild_producers();
  auto t = take_thresholds_from_qdq(g);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(t->empty());
  ASSERT_EQ(op_types(g), std::vector<std::string>{"MatMul"});
  const Value& wv = g.value(g.nodes[0].inputs[1]);
  ASSERT_TRUE(wv.constant.has_value());
  EXPECT_TRUE(testing::tensors_near(*wv.constant, Tensor::from_vector<float>({2, 2}, {0.5f, -1.5f, 0.f, 1.f}), 0, 0));
}

TEST(CalibQdq, GeneralZeroPointFormula) {
  Graph g;
  const ValueId x = g.add_value("x", DType::kFloat32, Dims{4});
  g.inputs = {x};
  const ValueId xd = qdq<uint8_t>(g, x, 0.1f, 100);  // max(255 - 100, 100 - 0) = 155
  const ValueId y = g.add_value("y", DType::kFloat32);
  add_node(g, "Relu", {xd}, {y});
  g.outputs = {y};
  g.rebuild_producers();
  ASSERT_TRUE(infer_shapes(g).ok());
  auto t = take_thresholds_from_qdq(g);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_FLOAT_EQ(t->at("x"), 0.1f * 155);
}

void expect_error(Graph g, const std::string& expect) {
  g.rebuild_producers();
  auto t = take_thresholds_from_qdq(g);
  ASSERT_FALSE(t.ok()) << expect;
  EXPECT_NE(t.status().message().find(expect), std::string::npos) << t.status().message();
}

TEST(CalibQdq, ErrorsNameTheNode) {
  {  // DQ of a runtime uint8 input: no float value to attach a threshold to.
    Graph g;
    const ValueId x = g.add_value("img", DType::kUInt8, Dims{4});
    const ValueId s = g.add_constant("s", Tensor::scalar<float>(1.f));
    const ValueId y = g.add_value("y", DType::kFloat32);
    g.inputs = {x};
    add_node(g, "DequantizeLinear", {x, s}, {y});
    g.outputs = {y};
    expect_error(g, "load calibration: DequantizeLinear 'DequantizeLinear_0': input 'img' is neither a constant");
  }
  {  // Q read by a non-DQ op.
    Graph g;
    const ValueId x = g.add_value("x", DType::kFloat32, Dims{4});
    const ValueId s = g.add_constant("s", Tensor::scalar<float>(1.f));
    const ValueId z = g.add_constant("z", Tensor::scalar<int8_t>(0));
    const ValueId q = g.add_value("q", DType::kInt8);
    const ValueId y = g.add_value("y", DType::kInt8);
    g.inputs = {x};
    add_node(g, "QuantizeLinear", {x, s, z}, {q});
    add_node(g, "Relu", {q}, {y});
    g.outputs = {y};
    expect_error(g, "QuantizeLinear 'QuantizeLinear_0': its output 'q' is read by Relu 'Relu_1'");
  }
  {  // Per-axis activation scale.
    Graph g;
    const ValueId x = g.add_value("x", DType::kFloat32, Dims{1, 2});
    const ValueId s = g.add_constant("s", Tensor::from_vector<float>({2}, {1.f, 2.f}));
    const ValueId q = g.add_value("q", DType::kUInt8);
    const ValueId y = g.add_value("y", DType::kFloat32);
    g.inputs = {x};
    add_node(g, "QuantizeLinear", {x, s}, {q});
    add_node(g, "DequantizeLinear", {q, s}, {y});
    g.outputs = {y};
    expect_error(g, "QuantizeLinear 'QuantizeLinear_0': scale 's' has 2 elements: activations must be quantized per tensor");
  }
  {  // The same value quantized twice with different scales.
    Graph g;
    const ValueId x = g.add_value("x", DType::kFloat32, Dims{4});
    g.inputs = {x};
    const ValueId a = qdq<int8_t>(g, x, 0.1f, 0);
    const ValueId s2 = g.add_constant("s2", Tensor::scalar<float>(0.2f));
    const ValueId q2 = g.add_value("q2", DType::kUInt8);
    const ValueId b = g.add_value("b", DType::kFloat32);
    add_node(g, "QuantizeLinear", {x, s2}, {q2});
    add_node(g, "DequantizeLinear", {q2, s2}, {b});
    const ValueId y = g.add_value("y", DType::kFloat32);
    add_node(g, "Add", {a, b}, {y});
    g.outputs = {y};
    expect_error(g, "QuantizeLinear 'QuantizeLinear_2': value 'x' is already quantized by 'QuantizeLinear_0'");
  }
}

}  // namespace
}  // namespace qmap
