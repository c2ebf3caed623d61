#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

Tensor ints(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

TEST(Squeeze, GivenAxesAndAllOnes) {
  // Expected by hand.
  Tensor x = testing::random_tensor({1, 3, 1, 2}, 2);
  Tensor axes = ints({-2});
  auto a = testing::run_op("Squeeze", {&x, &axes});
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(testing::tensors_near((*a)[0], x.reshaped({1, 3, 2}), 0, 0));
  auto b = testing::run_op("Squeeze", {&x});
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ((*b)[0].dims(), (Dims{3, 2}));
}

TEST(Squeeze, Errors) {
  Tensor x(DType::kFloat32, {1, 3});
  Tensor ax1 = ints({1}), dup = ints({0, -2}), far = ints({2});
  EXPECT_TRUE(testing::has_text(testing::run_op("Squeeze", {&x, &ax1}).status(), "only size-1 axes can be squeezed"));
  EXPECT_TRUE(testing::has_text(testing::run_op("Squeeze", {&x, &dup}).status(), "repeats axis 0"));
  EXPECT_TRUE(testing::has_text(testing::run_op("Squeeze", {&x, &far}).status(), "axes 2 is out of range"));
}

TEST(Squeeze, UpgradeAxesAttribute) {
  auto c = testing::upgrade_case("Squeeze", "Squeeze", 1, {{"axes", std::vector<int64_t>{0, 2}}});
  ASSERT_TRUE(op_def(OpId::Squeeze).upgrade_onnx(c.graph, 11, c.nodes).ok());
  EXPECT_FALSE(c.nodes[0].has_attr("axes"));
  EXPECT_EQ(testing::input_constant(c, 1).to_int64(), (std::vector<int64_t>{0, 2}));
  // Without the attribute (squeeze all) nothing is added.
  auto d = testing::upgrade_case("Squeeze", "Squeeze", 1, {});
  ASSERT_TRUE(op_def(OpId::Squeeze).upgrade_onnx(d.graph, 11, d.nodes).ok());
  EXPECT_EQ(d.nodes[0].inputs.size(), 1u);
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Squeeze, testing::unary_example("Squeeze", {}, {testing::ints({0})}));

}  // namespace
}  // namespace qmap
