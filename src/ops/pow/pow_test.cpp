#include "test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Pow, BroadcastScalarExponent) {
  // Expected values: x^2 and 4^0.5 by hand.
  Tensor x = Tensor::from_vector<float>({2, 2}, {1.f, -2.f, 3.f, 4.f});
  Tensor y = Tensor::scalar<float>(2.f);
  auto out = testing::run_op("Pow", {&x, &y});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({2, 2}, {1.f, 4.f, 9.f, 16.f})));
  Tensor h = Tensor::from_vector<float>({2}, {0.5f, -1.f});
  Tensor b = Tensor::from_vector<float>({2, 1}, {4.f, 2.f});
  auto out2 = testing::run_op("Pow", {&b, &h});
  ASSERT_TRUE(out2.ok()) << out2.status().message();
  EXPECT_TRUE(testing::tensors_near((*out2)[0], Tensor::from_vector<float>({2, 2}, {2.f, 0.25f, 1.41421356f, 0.5f})));
}

TEST(Pow, IntegerBaseKeepsType) {
  // ONNX: the output has the base's type; 3^2 = 9.
  Tensor x = Tensor::from_vector<int32_t>({2}, {3, -2});
  Tensor y = Tensor::from_vector<float>({2}, {2.f, 3.f});
  auto out = testing::run_op("Pow", {&x, &y});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dtype(), DType::kInt32);
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{9, -8}));
}

TEST(Pow, RejectsNonBroadcastable) {
  Tensor x = Tensor::from_vector<float>({2}, {1, 2});
  Tensor y = Tensor::from_vector<float>({3}, {1, 2, 3});
  auto out = testing::run_op("Pow", {&x, &y});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("do not broadcast"), std::string::npos) << out.status().message();
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Pow, testing::unary_example("Pow", {}, {Tensor::scalar<float>(2.f)}));

}  // namespace
}  // namespace qmap
