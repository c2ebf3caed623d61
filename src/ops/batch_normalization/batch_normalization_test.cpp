#include "ops/common/conv_pool_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::fails_with;
using testing::infer_op;

const OpDef& bn_def() { return op_def(OpId::BatchNormalization); }

TEST(BatchNormalizationOp, FloatGolden) {
  // ONNX BatchNormalization docs example (test_batchnorm_example): x = [[[[-1, 0, 1]],
  // [[2, 3, 4]]]], s = [1, 1.5], bias = [0, 1], mean = [0, 3], var = [1, 1.5], epsilon 1e-5.
  // y = s * (x - mean) / sqrt(var + eps) + bias, computed by hand:
  // channel 0: [-0.999995, 0, 0.999995]; channel 1: 1.5 * [-1, 0, 1] / sqrt(1.50001) + 1.
  Tensor x = Tensor::from_vector<float>({1, 2, 1, 3}, {-1, 0, 1, 2, 3, 4});
  Tensor s = Tensor::from_vector<float>({2}, {1.f, 1.5f});
  Tensor b = Tensor::from_vector<float>({2}, {0.f, 1.f});
  Tensor m = Tensor::from_vector<float>({2}, {0.f, 3.f});
  Tensor v = Tensor::from_vector<float>({2}, {1.f, 1.5f});
  auto y = testing::run_op("BatchNormalization", {&x, &s, &b, &m, &v});
  ASSERT_TRUE(y.ok()) << y.status().message();
  const float k = 1.5f / std::sqrt(1.5f + 1e-5f);
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 2, 1, 3}, {
      -0.999995f, 0.f, 0.999995f, 1.f - k, 1.f, 1.f + k})));
}

TEST(BatchNormalizationOp, ShapesAndRejections) {
  const Dims c3{3};
  auto r = infer_op("BatchNormalization", {{Dims{2, 3, 4, 5}}, {c3}, {c3}, {c3}, {c3}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(*r.outputs[0].dims, (Dims{2, 3, 4, 5}));
  EXPECT_EQ(testing::find_param(r.params, "in_channels")->ints, (std::vector<int64_t>{3}));
  EXPECT_TRUE(fails_with(infer_op("BatchNormalization", {{Dims{2, 3, 4}}, {c3}, {Dims{4}}, {c3}, {c3}}).status,
                         "input 2 (B) has shape 4: must be [3]"));
  EXPECT_TRUE(fails_with(infer_op("BatchNormalization", {{Dims{2, 3, 4}}, {c3}, {c3}, {c3}, {c3}},
                                  {{"training_mode", int64_t{1}}}).status,
                         "training_mode 1 is not supported: only inference"));
  EXPECT_TRUE(fails_with(infer_op("BatchNormalization", {{Dims{3}}, {c3}, {c3}, {c3}, {c3}}).status,
                         "rank >= 2"));
  r = infer_op("BatchNormalization", {{std::nullopt}, {c3}, {c3}, {c3}, {c3}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.outputs[0].dims.has_value());
}

Node legacy_bn(Graph& g, int outputs) {
  Node n;
  n.name = "bn";
  n.op = OpId::BatchNormalization;
  n.op_type = "BatchNormalization";
  for (int i = 0; i < 5; ++i) n.inputs.push_back(g.add_value("in" + std::to_string(i)));
  for (int i = 0; i < outputs; ++i) n.outputs.push_back(g.add_value("out" + std::to_string(i)));
  return n;
}

TEST(BatchNormalizationOp, UpgradeDropsLegacyAttributes) {
  Graph g;
  std::vector<Node> nodes{legacy_bn(g, 1)};
  nodes[0].attrs = {{"consumed_inputs", std::vector<int64_t>{0, 0, 0, 1, 1}},
                    {"is_test", int64_t{1}}, {"spatial", int64_t{1}}, {"epsilon", 1e-3f}};
  ASSERT_TRUE(bn_def().upgrade_onnx(g, 1, nodes).ok());
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].attrs.size(), 1u);
  EXPECT_TRUE(nodes[0].has_attr("epsilon"));
  // is_test = 1 with statistics outputs (opset 6): they are unspecified and dropped.
  nodes = {legacy_bn(g, 5)};
  nodes[0].attrs = {{"is_test", int64_t{1}}};
  ASSERT_TRUE(bn_def().upgrade_onnx(g, 6, nodes).ok());
  EXPECT_EQ(nodes[0].outputs.size(), 1u);
  EXPECT_TRUE(nodes[0].attrs.empty());
  // Trailing omitted outputs are dropped even in training form (nothing to compute).
  nodes = {legacy_bn(g, 1)};
  nodes[0].outputs.insert(nodes[0].outputs.end(), {kNoValue, kNoValue, kNoValue, kNoValue});
  ASSERT_TRUE(bn_def().upgrade_onnx(g, 9, nodes).ok());
  EXPECT_EQ(nodes[0].outputs.size(), 1u);
}

TEST(BatchNormalizationOp, UpgradeRejectsSpatialZeroAndTraining) {
  Graph g;
  std::vector<Node> nodes{legacy_bn(g, 1)};
  nodes[0].attrs = {{"spatial", int64_t{0}}};
  EXPECT_TRUE(fails_with(bn_def().upgrade_onnx(g, 7, nodes), "spatial 0 (per-activation"));
  nodes = {legacy_bn(g, 5)};
  EXPECT_TRUE(fails_with(bn_def().upgrade_onnx(g, 9, nodes), "training-mode outputs"));
  // Opset 15 nodes are already in IR form: untouched.
  nodes = {legacy_bn(g, 1)};
  nodes[0].attrs = {{"momentum", 0.5f}};
  ASSERT_TRUE(bn_def().upgrade_onnx(g, 15, nodes).ok());
  EXPECT_EQ(nodes[0].attrs.size(), 1u);
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(BatchNormalization, {.build = [](testing::GraphBuilder& b, ValueId x) {
  return std::vector<ValueId>{b.batchnorm("n", x, 4, 4)};
}});

}  // namespace
}  // namespace qmap
