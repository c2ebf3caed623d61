#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

Tensor ints(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

TEST(Unsqueeze, UnsortedAndNegativeAxes) {
  // Expected by hand: axes index the output (rank 2 + 3 = 5); [4, 0, -3] -> positions 0, 2, 4.
  Tensor x = Tensor::from_vector<uint8_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor axes = ints({4, 0, -3});
  auto out = testing::run_op("Unsqueeze", {&x, &axes});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dims(), (Dims{1, 2, 1, 3, 1}));
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
}

TEST(Unsqueeze, ScalarToVector) {
  Tensor x = Tensor::scalar<int64_t>(5);
  Tensor axes = ints({0});
  auto out = testing::run_op("Unsqueeze", {&x, &axes});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dims(), (Dims{1}));
}

TEST(Unsqueeze, Errors) {
  Tensor x(DType::kFloat32, {2});
  Tensor far = ints({2}), dup = ints({0, -3});  // output rank 3: -3 is axis 0
  EXPECT_TRUE(testing::has_text(testing::run_op("Unsqueeze", {&x, &far}).status(), "axes 2 is out of range for rank 2"));
  EXPECT_TRUE(testing::has_text(testing::run_op("Unsqueeze", {&x, &dup}).status(), "repeats axis 0"));
  EXPECT_TRUE(testing::has_text(testing::run_op("Unsqueeze", {&x}).status(), "axes input is required"));
}

TEST(Unsqueeze, UpgradeAxesAttribute) {
  auto c = testing::upgrade_case("Unsqueeze", "Unsqueeze", 1, {{"axes", std::vector<int64_t>{3}}});
  ASSERT_TRUE(op_def(OpId::Unsqueeze).upgrade_onnx(c.graph, 11, c.nodes).ok());
  EXPECT_TRUE(c.nodes[0].attrs.empty());
  EXPECT_EQ(testing::input_constant(c, 1).to_int64(), (std::vector<int64_t>{3}));
  auto d = testing::upgrade_case("Unsqueeze", "Unsqueeze", 1, {{"axes", std::vector<float>{3.f}}});
  EXPECT_TRUE(testing::has_text(op_def(OpId::Unsqueeze).upgrade_onnx(d.graph, 11, d.nodes), "must be ints"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Unsqueeze, testing::unary_example("Unsqueeze", {}, {testing::ints({4})}));

}  // namespace
}  // namespace qmap
