#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(LeakyRelu, DefaultAlphaAndShape) {
  // Expected: x >= 0 ? x : 0.01 * x, by hand.
  Tensor x = Tensor::from_vector<float>({2, 2}, {-2.f, -0.f, 3.f, -100.f});
  auto out = testing::run_op("LeakyRelu", {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({2, 2}, {-0.02f, 0.f, 3.f, -1.f})));
}

TEST(LeakyRelu, Alpha) {
  // test_leakyrelu_example: alpha 0.1, x = [-1, 0, 1] -> [-0.1, 0, 1].
  Tensor x = Tensor::from_vector<float>({3}, {-1.f, 0.f, 1.f});
  auto out = testing::run_op("LeakyRelu", {&x}, {{"alpha", 0.1f}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3}, {-0.1f, 0.f, 1.f})));
}

TEST(LeakyRelu, RejectsInteger) {
  Tensor x = Tensor::from_vector<int32_t>({1}, {1});
  EXPECT_TRUE(testing::fails_with(testing::run_op("LeakyRelu", {&x}), "supported types are float32"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(LeakyRelu, testing::unary_example("LeakyRelu", {{"alpha", 0.1f}}));

}  // namespace
}  // namespace qmap
