#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Elu, AlphaTwo) {
  // Expected: numpy float64 where(x > 0, x, 2 * expm1(x)) rounded to float32 (/usr/bin/python3).
  Tensor x = Tensor::from_vector<float>({8}, {-3, -1, -0.5f, 0, 0.5f, 1, 3, 8});
  auto out = testing::run_op("Elu", {&x}, {{"alpha", 2.f}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near(
      (*out)[0], Tensor::from_vector<float>({8}, {-1.900425910949707f, -1.264241099357605f,
                                                  -0.7869386672973633f, 0.f, 0.5f, 1.f, 3.f, 8.f}),
      0, 2e-7));
}

TEST(Elu, DefaultAlphaAndTinyInputs) {
  // alpha 1: elu(-1e-6) = expm1(-1e-6) = -9.999995e-7 (float64 by hand); relative accuracy
  // near 0 is why the kernel uses expm1.
  Tensor x = Tensor::from_vector<float>({2}, {-1e-6f, 2.f});
  auto out = testing::run_op("Elu", {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({2}, {-9.999995e-7f, 2.f}), 0, 1e-6));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Elu, testing::unary_example("Elu"));

}  // namespace
}  // namespace qmap
