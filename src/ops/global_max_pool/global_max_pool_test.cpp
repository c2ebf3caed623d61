#include "ops/common/conv_pool_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(GlobalMaxPoolOp, ShapeAndValues) {
  // ONNX test_globalmaxpool_precomputed: 1..9 as 1x1x3x3 -> 9. Channel 2 (all negative) by hand.
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9,
                                                       -4, -1, -3, -2, -9, -5, -6, -7, -8});
  auto y = testing::run_op("GlobalMaxPool", {&x});
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 2, 1, 1}, {9, -1})));
  // 1-D spatial input.
  Tensor x1 = Tensor::from_vector<float>({1, 1, 4}, {0.5f, -2, 3, 1});
  y = testing::run_op("GlobalMaxPool", {&x1});
  ASSERT_TRUE(y.ok());
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 1, 1}, {3})));
  EXPECT_TRUE(testing::fails_with(testing::infer_op("GlobalMaxPool", {{Dims{3}}}).status, "rank >= 2"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(GlobalMaxPool, testing::unary_example("GlobalMaxPool"));

}  // namespace
}  // namespace qmap
