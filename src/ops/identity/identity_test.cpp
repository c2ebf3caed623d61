#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Identity, CopiesEveryDtype) {
  const Tensor inputs[] = {Tensor::from_vector<float>({1, 1, 2, 2}, {1, 2, 3, 4}),
                           Tensor::from_vector<int64_t>({3}, {-1, 0, 1LL << 40}),
                           Tensor::from_vector<bool>({2}, {true, false}),
                           Tensor::from_vector<uint8_t>({0}, {}),
                           Tensor::scalar<double>(2.5)};
  for (const Tensor& x : inputs) {
    auto out = testing::run_op("Identity", {&x});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ((*out)[0].dtype(), x.dtype());
    EXPECT_TRUE(testing::tensors_near((*out)[0], x, 0, 0));
  }
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Identity, testing::unary_example("Identity"));

}  // namespace
}  // namespace qmap
