#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Dropout, InferenceIsIdentityWithTrueMask) {
  // test_dropout_default_mask_ratio form: ratio given, training_mode absent -> y = x, mask true.
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, -2, 3, -4});
  Tensor r = Tensor::scalar<float>(0.1f);
  auto out = testing::run_op("Dropout", {&x, &r}, {{"seed", int64_t{0}}}, 2);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], x, 0, 0));
  EXPECT_EQ((*out)[1].dtype(), DType::kBool);
  EXPECT_EQ((*out)[1].to_int64(), (std::vector<int64_t>{1, 1, 1, 1}));
  Tensor off = Tensor::scalar<bool>(false);
  EXPECT_TRUE(testing::run_op("Dropout", {&x, &r, &off}).ok());
}

TEST(Dropout, TrainingModeRejected) {
  Tensor x = Tensor::from_vector<float>({2}, {1, 2});
  Tensor on = Tensor::scalar<bool>(true);
  EXPECT_TRUE(testing::fails_with(testing::run_op("Dropout", {&x, nullptr, &on}),
                                  "training_mode is true with ratio 0.5: random dropping is not supported"));
  Tensor zero = Tensor::scalar<float>(0.f);
  EXPECT_TRUE(testing::run_op("Dropout", {&x, &zero, &on}).ok());  // ratio 0: still identity
  Tensor bad = Tensor::scalar<float>(1.f);
  EXPECT_TRUE(testing::fails_with(testing::run_op("Dropout", {&x, &bad}), "ratio 1 is out of range"));
  Tensor i = Tensor::from_vector<int32_t>({1}, {1});
  EXPECT_TRUE(testing::fails_with(testing::run_op("Dropout", {&i}), "input 0 has type int32"));
}

TEST(Dropout, UpgradeOpset11RatioAttribute) {
  // test_dropout_random_old form: Dropout-10/11 with ratio 0.2 -> ratio becomes input 1.
  auto g = testing::one_node_graph("Dropout", {Dims{3, 4}}, {{"ratio", 0.2f}});
  ASSERT_TRUE(op_def(OpId::Dropout).upgrade_onnx(g.graph, 11, g.nodes).ok());
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node& n = g.nodes[0];
  EXPECT_TRUE(n.attrs.empty());
  ASSERT_EQ(n.inputs.size(), 2u);
  EXPECT_EQ(g.graph.value(n.inputs[1]).constant->data<float>()[0], 0.2f);
  // Opset 12+ untouched.
  auto g2 = testing::one_node_graph("Dropout", {Dims{3}}, {{"seed", int64_t{1}}});
  ASSERT_TRUE(op_def(OpId::Dropout).upgrade_onnx(g2.graph, 13, g2.nodes).ok());
  EXPECT_TRUE(g2.nodes[0].has_attr("seed"));
}

TEST(Dropout, UpgradeOpset7MaskBecomesCastOfBoolMask) {
  // Dropout-7 typed the mask like the data (float32 here) and had is_test in Dropout-6.
  auto g = testing::one_node_graph("Dropout", {Dims{3}}, {{"is_test", int64_t{1}}}, 2);
  ASSERT_TRUE(op_def(OpId::Dropout).upgrade_onnx(g.graph, 7, g.nodes).ok());
  ASSERT_EQ(g.nodes.size(), 2u);
  const Node &d = g.nodes[0], &c = g.nodes[1];
  EXPECT_TRUE(d.attrs.empty());
  EXPECT_EQ(c.op, OpId::Cast);
  EXPECT_EQ(c.inputs, std::vector<ValueId>{d.outputs[1]});
  EXPECT_EQ(c.outputs, std::vector<ValueId>{2});  // the original mask value
  EXPECT_EQ(attr_int(c, "to", 0), 1);             // ONNX FLOAT
  EXPECT_EQ(g.graph.value(d.outputs[1]).dtype, DType::kBool);
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Dropout, testing::unary_example("Dropout"));

}  // namespace
}  // namespace qmap
