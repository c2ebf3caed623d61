#include "test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Max, ThreeInputsWithBroadcast) {
  // Expected values: elementwise max by hand; c broadcasts over rows.
  Tensor a = Tensor::from_vector<float>({2, 2}, {1.f, 5.f, -3.f, 0.f});
  Tensor b = Tensor::from_vector<float>({2, 2}, {2.f, 4.f, -4.f, -1.f});
  Tensor c = Tensor::from_vector<float>({2}, {0.f, 4.5f});
  auto out = testing::run_op("Max", {&a, &b, &c});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({2, 2}, {2.f, 5.f, 0.f, 4.5f})));
}

TEST(Max, RejectsMixedTypes) {
  Tensor a = Tensor::from_vector<float>({1}, {1.f});
  Tensor b = Tensor::from_vector<int32_t>({1}, {1});
  auto out = testing::run_op("Max", {&a, &b});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("same type"), std::string::npos) << out.status().message();
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Max, testing::self_binary_example("Max"));

}  // namespace
}  // namespace qmap
