#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(HardSigmoid, Defaults) {
  // Expected: max(0, min(1, 0.2 x + 0.5)) by hand.
  Tensor x = Tensor::from_vector<float>({5}, {-5.f, -1.f, 0.f, 1.f, 3.f});
  auto out = testing::run_op("HardSigmoid", {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({5}, {0.f, 0.3f, 0.5f, 0.7f, 1.f})));
}

TEST(HardSigmoid, AlphaBeta) {
  // test_hardsigmoid_example: alpha 0.5, beta 0.6, x = [-1, 0, 1] -> [0.1, 0.6, 1].
  Tensor x = Tensor::from_vector<float>({3}, {-1.f, 0.f, 1.f});
  auto out = testing::run_op("HardSigmoid", {&x}, {{"alpha", 0.5f}, {"beta", 0.6f}});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3}, {0.1f, 0.6f, 1.f})));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(HardSigmoid, testing::unary_example("HardSigmoid"));

}  // namespace
}  // namespace qmap
