#include <cmath>
#include <limits>

#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Div, FloatIeee) {
  // test_div_example: [3, 4] / [1, 2] = [3, 2]; x / 0 = inf by IEEE.
  Tensor a = Tensor::from_vector<float>({3}, {3, 4, 1});
  Tensor b = Tensor::from_vector<float>({3}, {1, 2, 0});
  auto out = testing::run_op("Div", {&a, &b});
  ASSERT_TRUE(out.ok()) << out.status().message();
  auto y = (*out)[0].data<float>();
  EXPECT_EQ(y[0], 3.f);
  EXPECT_EQ(y[1], 2.f);
  EXPECT_TRUE(std::isinf(y[2]));
}

TEST(Div, IntegerTruncatesTowardZero) {
  // C++/ONNX Runtime semantics: -7 / 2 = -3, 7 / -2 = -3; INT64_MIN / -1 wraps.
  Tensor a = Tensor::from_vector<int64_t>({4}, {-7, 7, 6, std::numeric_limits<int64_t>::min()});
  Tensor b = Tensor::from_vector<int64_t>({4}, {2, -2, 3, -1});
  auto out = testing::run_op("Div", {&a, &b});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{-3, -3, 2, std::numeric_limits<int64_t>::min()}));
  Tensor c = Tensor::from_vector<uint8_t>({2}, {255, 7});
  Tensor d = Tensor::from_vector<uint8_t>({2}, {2, 7});
  auto o2 = testing::run_op("Div", {&c, &d});
  ASSERT_TRUE(o2.ok());
  EXPECT_EQ((*o2)[0].to_int64(), (std::vector<int64_t>{127, 1}));
}

TEST(Div, IntegerZeroDivisorIsAnError) {
  Tensor a = Tensor::from_vector<int32_t>({2}, {1, 2});
  Tensor b = Tensor::from_vector<int32_t>({2}, {1, 0});
  EXPECT_TRUE(testing::fails_with(testing::run_op("Div", {&a, &b}), "integer division by zero"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Div, testing::unary_example("Div", {}, {Tensor::scalar<float>(4.f)}));

}  // namespace
}  // namespace qmap
