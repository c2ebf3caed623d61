#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Sub, Values) {
  // test_sub_example: [1, 2, 3] - [3, 2, 1] = [-2, 0, 2]; plus a scalar operand on the left.
  Tensor a = Tensor::from_vector<float>({3}, {1, 2, 3});
  Tensor b = Tensor::from_vector<float>({3}, {3, 2, 1});
  auto out = testing::run_op("Sub", {&a, &b});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3}, {-2, 0, 2})));
  Tensor s = Tensor::scalar<float>(10.f);
  auto o2 = testing::run_op("Sub", {&s, &a});
  ASSERT_TRUE(o2.ok());
  EXPECT_TRUE(testing::tensors_near((*o2)[0], Tensor::from_vector<float>({3}, {9, 8, 7})));
}

TEST(Sub, Uint8Wraps) {
  // test_sub_uint8 semantics: 1 - 2 wraps to 255.
  Tensor a = Tensor::from_vector<uint8_t>({2}, {1, 200});
  Tensor b = Tensor::from_vector<uint8_t>({2}, {2, 100});
  auto out = testing::run_op("Sub", {&a, &b});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{255, 100}));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Sub, testing::self_binary_example("Sub"));

}  // namespace
}  // namespace qmap
