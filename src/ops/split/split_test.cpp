#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::has_text;

TEST(Split, EqualPartsDefaultAxis) {
  // Expected by hand: [1..6] into 3 parts of 2.
  Tensor x = Tensor::from_vector<float>({6}, {1, 2, 3, 4, 5, 6});
  auto out = testing::run_op_n("Split", {&x}, {}, 3);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 3u);
  EXPECT_TRUE(testing::tensors_near((*out)[2], Tensor::from_vector<float>({2}, {5, 6})));
}

TEST(Split, VariablePartsAxis1Int8) {
  Tensor x = Tensor::from_vector<int8_t>({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor split = Tensor::from_vector<int64_t>({3}, {1, 3, 0});
  auto out = testing::run_op_n("Split", {&x, &split}, {{"axis", int64_t{-1}}}, 3);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{1, 5}));
  EXPECT_EQ((*out)[1].to_int64(), (std::vector<int64_t>{2, 3, 4, 6, 7, 8}));
  EXPECT_EQ((*out)[2].dims(), (Dims{2, 0}));
}

TEST(Split, Errors) {
  Tensor x(DType::kFloat32, {2, 5});
  EXPECT_TRUE(has_text(testing::run_op_n("Split", {&x}, {{"axis", int64_t{1}}}, 2).status(),
                       "cannot be split into 2 equal parts"));
  Tensor bad = Tensor::from_vector<int64_t>({2}, {2, 2});
  EXPECT_TRUE(has_text(testing::run_op_n("Split", {&x, &bad}, {{"axis", int64_t{1}}}, 2).status(), "sums to 4"));
  EXPECT_TRUE(has_text(testing::run_op_n("Split", {&x, &bad}, {{"axis", int64_t{1}}}, 3).status(),
                       "the node has 3 outputs"));
  Tensor neg = Tensor::from_vector<int64_t>({2}, {6, -1});
  EXPECT_TRUE(has_text(testing::run_op_n("Split", {&x, &neg}, {{"axis", int64_t{1}}}, 2).status(), "negative length"));
  // Lengths near 2^62 summed past int64 (the onnx fuzzer's split_lengths_overflow_int64.onnx).
  Tensor huge = Tensor::from_vector<int64_t>({2}, {5798491503579889672, 4899916385996271471});
  EXPECT_TRUE(has_text(testing::run_op_n("Split", {&x, &huge}, {{"axis", int64_t{1}}}, 2).status(),
                       "has a length 5798491503579889672 longer than axis 1"));
  Tensor fsplit(DType::kFloat32, {2});
  EXPECT_TRUE(has_text(testing::run_op_n("Split", {&x, &fsplit}, {}, 2).status(), "supported types are int64"));
}

TEST(Split, UnknownSplitValueGivesUnknownDims) {
  auto out = testing::infer_op("Split", {testing::unknown(DType::kFloat32, Dims{4}),
                                         testing::unknown(DType::kInt64, Dims{2})}, {}, 2);
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_FALSE((*out)[1].dims.has_value());
}

TEST(Split, UpgradeMovesSplitAttributeToInput) {
  auto c = testing::upgrade_case("Split", "Split", 1, {{"axis", int64_t{1}}, {"split", std::vector<int64_t>{1, 2}}});
  ASSERT_TRUE(op_def(OpId::Split).upgrade_onnx(c.graph, 11, c.nodes).ok());
  EXPECT_FALSE(c.nodes[0].has_attr("split"));
  EXPECT_TRUE(c.nodes[0].has_attr("axis"));
  EXPECT_EQ(testing::input_constant(c, 1).to_int64(), (std::vector<int64_t>{1, 2}));
  // Opset 13 nodes are left alone.
  auto d = testing::upgrade_case("Split", "Split", 1, {});
  ASSERT_TRUE(op_def(OpId::Split).upgrade_onnx(d.graph, 13, d.nodes).ok());
  EXPECT_EQ(d.nodes[0].inputs.size(), 1u);
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Split, {.build = [](testing::GraphBuilder& b, ValueId x) {
  const ValueId y0 = b.g.add_value("y0"), y1 = b.g.add_value("y1");
  b.g.nodes.push_back(make_node("Split", "n", {x, b.constant("split", testing::ints({1, 3}))}, {y0, y1}, {{"axis", int64_t{1}}}));
  return std::vector<ValueId>{y0, y1};
}});

}  // namespace
}  // namespace qmap
