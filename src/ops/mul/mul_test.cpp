#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Mul, ChannelBroadcast) {
  // 1x2x2x1 * 2x1x1 (per channel), by hand.
  Tensor a = Tensor::from_vector<float>({1, 2, 2, 1}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector<float>({2, 1, 1}, {10, -1});
  auto out = testing::run_op("Mul", {&a, &b});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({1, 2, 2, 1}, {10, 20, -3, -4})));
  EXPECT_EQ(testing::param_text(testing::npu_params_of("Mul", {&a, &b}), "broadcast"), "channel");
}

TEST(Mul, IntegerTypes) {
  // uint8 16 * 20 = 320 wraps to 64 (mod 256); int32 shape arithmetic.
  Tensor a = Tensor::from_vector<uint8_t>({2}, {16, 3});
  Tensor b = Tensor::from_vector<uint8_t>({2}, {20, 5});
  auto out = testing::run_op("Mul", {&a, &b});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{64, 15}));
  Tensor c = Tensor::from_vector<int32_t>({2}, {-3, 7});
  Tensor d = Tensor::from_vector<int32_t>({1}, {-2});
  auto o2 = testing::run_op("Mul", {&c, &d});
  ASSERT_TRUE(o2.ok());
  EXPECT_EQ((*o2)[0].to_int64(), (std::vector<int64_t>{6, -14}));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Mul, testing::self_binary_example("Mul"));

}  // namespace
}  // namespace qmap
