#include <cfloat>

#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Clip, MinMax) {
  // test_clip_example: [-2, 0, 2] clipped to [-1, 1] -> [-1, 0, 1].
  Tensor x = Tensor::from_vector<float>({3}, {-2, 0, 2});
  Tensor lo = Tensor::scalar<float>(-1.f), hi = Tensor::scalar<float>(1.f);
  auto out = testing::run_op("Clip", {&x, &lo, &hi});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3}, {-1, 0, 1})));
}

TEST(Clip, OptionalBoundsAndMinAboveMax) {
  // Only max given (min omitted): [-2, 0, 2] -> [-2, 0, 0]. min > max: all equal max (spec).
  Tensor x = Tensor::from_vector<float>({3}, {-2, 0, 2});
  Tensor hi = Tensor::scalar<float>(0.f), lo = Tensor::scalar<float>(5.f);
  auto out = testing::run_op("Clip", {&x, nullptr, &hi});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3}, {-2, 0, 0})));
  auto o2 = testing::run_op("Clip", {&x, &lo, &hi});
  ASSERT_TRUE(o2.ok());
  EXPECT_TRUE(testing::tensors_near((*o2)[0], Tensor::from_vector<float>({3}, {0, 0, 0})));
  auto o3 = testing::run_op("Clip", {&x});
  ASSERT_TRUE(o3.ok());
  EXPECT_TRUE(testing::tensors_near((*o3)[0], x));
}

TEST(Clip, Int8) {
  // test_clip_default_int8_min form: int8 with only min = 0 -> negative values become 0.
  Tensor x = Tensor::from_vector<int8_t>({4}, {-128, -1, 0, 127});
  Tensor lo = Tensor::scalar<int8_t>(0);
  auto out = testing::run_op("Clip", {&x, &lo});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dtype(), DType::kInt8);
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{0, 0, 0, 127}));
}

TEST(Clip, Errors) {
  Tensor x = Tensor::from_vector<float>({3}, {-2, 0, 2});
  Tensor wrong_type = Tensor::scalar<int8_t>(0);
  EXPECT_TRUE(testing::fails_with(testing::run_op("Clip", {&x, &wrong_type}), "min has type int8 but input has type float32"));
  Tensor not_scalar = Tensor::from_vector<float>({2}, {0, 1});
  EXPECT_TRUE(testing::fails_with(testing::run_op("Clip", {&x, nullptr, &not_scalar}), "max has shape 2: it must be a scalar"));
  Tensor one = Tensor::from_vector<float>({1}, {1});
  EXPECT_TRUE(testing::run_op("Clip", {&x, nullptr, &one}).ok());  // [1] accepted like ORT
}

TEST(Clip, UpgradeClip6AttributesToInputs) {
  // Clip-6 with min = 0, max = 6 (ReLU6 as exported by old PyTorch) becomes Clip(x, min, max).
  auto g = testing::one_node_graph("Clip", {Dims{1, 3}}, {{"min", 0.f}, {"max", 6.f}});
  ASSERT_TRUE(op_def(OpId::Clip).upgrade_onnx(g.graph, 9, g.nodes).ok());
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& n = g.nodes[0];
  EXPECT_TRUE(n.attrs.empty());
  ASSERT_EQ(n.inputs.size(), 3u);
  EXPECT_EQ(g.graph.value(n.inputs[1]).constant->data<float>()[0], 0.f);
  EXPECT_EQ(g.graph.value(n.inputs[2]).constant->data<float>()[0], 6.f);
  EXPECT_TRUE(g.graph.value(n.inputs[2]).constant->dims().empty());
}

TEST(Clip, UpgradeClip6OnlyMaxLeavesMinEmpty) {
  auto g = testing::one_node_graph("Clip", {Dims{3}}, {{"max", 1.5f}});
  ASSERT_TRUE(op_def(OpId::Clip).upgrade_onnx(g.graph, 6, g.nodes).ok());
  const Node& n = g.nodes[0];
  ASSERT_EQ(n.inputs.size(), 3u);
  EXPECT_EQ(n.inputs[1], kNoValue);
  EXPECT_EQ(g.graph.value(n.inputs[2]).constant->data<float>()[0], 1.5f);
  // Neither attribute: just x (defaults -FLT_MAX / FLT_MAX equal Clip-13's for float32).
  auto g2 = testing::one_node_graph("Clip", {Dims{3}}, {});
  ASSERT_TRUE(op_def(OpId::Clip).upgrade_onnx(g2.graph, 6, g2.nodes).ok());
  EXPECT_EQ(g2.nodes[0].inputs.size(), 1u);
  // Opset 11+ is left alone.
  auto g3 = testing::one_node_graph("Clip", {Dims{3}}, {{"max", 1.5f}});
  ASSERT_TRUE(op_def(OpId::Clip).upgrade_onnx(g3.graph, 11, g3.nodes).ok());
  EXPECT_TRUE(g3.nodes[0].has_attr("max"));
}

TEST(Clip, NpuMode) {
  Tensor x(DType::kFloat32, {1, 4});
  Tensor zero = Tensor::scalar<float>(0.f), six = Tensor::scalar<float>(6.f), two = Tensor::scalar<float>(2.f);
  EXPECT_EQ(testing::param_text(testing::npu_params_of("Clip", {&x, &zero, &six}), "mode"), "relu6");
  EXPECT_EQ(testing::param_text(testing::npu_params_of("Clip", {&x, &zero}), "mode"), "relu");
  EXPECT_EQ(testing::param_text(testing::npu_params_of("Clip", {&x, &two, &six}), "mode"), "range");
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Clip, testing::unary_example("Clip", {}, {Tensor::scalar<float>(0.f), Tensor::scalar<float>(6.f)}));

}  // namespace
}  // namespace qmap
