#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(PRelu, PerChannelSlope) {
  // 1x2x1x2 with slope 2x1x1 = [0.5, 2], by hand.
  Tensor x = Tensor::from_vector<float>({1, 2, 1, 2}, {-2, 3, -1, -4});
  Tensor s = Tensor::from_vector<float>({2, 1, 1}, {0.5f, 2.f});
  auto out = testing::run_op("PRelu", {&x, &s});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({1, 2, 1, 2}, {-1, 3, -2, -8})));
  EXPECT_EQ(testing::param_text(testing::npu_params_of("PRelu", {&x, &s}), "broadcast"), "channel");
}

TEST(PRelu, TrailingSlope) {
  // test_prelu_broadcast form: X 3x4x5, slope 5; checked on 2x3 with slope 3 by hand.
  Tensor x = Tensor::from_vector<float>({2, 3}, {-1, -1, -1, 1, -2, -3});
  Tensor s = Tensor::from_vector<float>({3}, {1, 2, 3});
  auto out = testing::run_op("PRelu", {&x, &s});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({2, 3}, {-1, -2, -3, 1, -4, -9})));
}

TEST(PRelu, SlopeMustBroadcastIntoX) {
  // Unidirectional: slope may not enlarge X (multidirectional would give 2x2x3).
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor s(DType::kFloat32, {2, 1, 3});
  EXPECT_TRUE(testing::fails_with(testing::run_op("PRelu", {&x, &s}), "slope shape 2x1x3 does not broadcast to X shape 2x3"));
  Tensor s2(DType::kFloat32, {2});
  EXPECT_TRUE(testing::fails_with(testing::run_op("PRelu", {&x, &s2}), "does not broadcast"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(PRelu, testing::unary_example("PRelu", {}, {Tensor::from_vector<float>({4, 1, 1}, {0.1f, 0.2f, 0.3f, 0.4f})}));

}  // namespace
}  // namespace qmap
