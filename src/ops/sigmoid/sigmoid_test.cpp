#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Sigmoid, Values) {
  // Expected: numpy float64 1/(1+exp(-x)) rounded to float32 (/usr/bin/python3).
  Tensor x = Tensor::from_vector<float>({2, 4}, {-3, -1, -0.5f, 0, 0.5f, 1, 3, 8});
  auto out = testing::run_op("Sigmoid", {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near(
      (*out)[0], Tensor::from_vector<float>({2, 4}, {0.04742587357759476f, 0.2689414322376251f,
                                                     0.3775406777858734f, 0.5f, 0.622459352016449f,
                                                     0.7310585975646973f, 0.9525741338729858f,
                                                     0.9996646642684937f}),
      0, 2e-7));
}

TEST(Sigmoid, TailsKeepRelativeAccuracy) {
  // sigmoid(-80) = exp(-80) / (1 + exp(-80)) ~ 1.8049e-35 (float64 by hand); no overflow at +-1000.
  Tensor x = Tensor::from_vector<float>({3}, {-80.f, -1000.f, 1000.f});
  auto out = testing::run_op("Sigmoid", {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3}, {1.8048513e-35f, 0.f, 1.f}), 0, 1e-6));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Sigmoid, testing::unary_example("Sigmoid"));

}  // namespace
}  // namespace qmap
