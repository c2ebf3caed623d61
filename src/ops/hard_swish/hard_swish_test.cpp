#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(HardSwish, Values) {
  // Expected: numpy float32 x * clip(x / 6 + 0.5, 0, 1) (/usr/bin/python3).
  Tensor x = Tensor::from_vector<float>({8}, {-3, -1, -0.5f, 0, 0.5f, 1, 3, 8});
  auto out = testing::run_op("HardSwish", {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near(
      (*out)[0], Tensor::from_vector<float>({8}, {0.f, -0.3333333134651184f, -0.2083333283662796f, 0.f,
                                                  0.2916666567325592f, 0.6666666865348816f, 3.f, 8.f}),
      0, 2e-7));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(HardSwish, testing::unary_example("HardSwish"));

}  // namespace
}  // namespace qmap
