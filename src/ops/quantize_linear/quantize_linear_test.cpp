#include <cmath>

#include "ops/common/elementwise_test_util.h"
#include "ops/common/elementwise_quant.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(QuantizeLinear, PerTensorUint8) {
  // test_quantizelinear: x / 2 + 128 saturated to uint8; 3 / 2 = 1.5 rounds to 2 (even).
  Tensor x = Tensor::from_vector<float>({6}, {0, 2, 3, 1000, -254, -1000});
  Tensor s = Tensor::scalar<float>(2.f);
  Tensor zp = Tensor::scalar<uint8_t>(128);
  auto out = testing::run_op("QuantizeLinear", {&x, &s, &zp});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dtype(), DType::kUInt8);
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{128, 129, 130, 255, 1, 0}));
}

TEST(QuantizeLinear, PerAxis) {
  // test_quantizelinear_axis (1x3x3x2, axis 1), values from its .pb files.
  Tensor x = Tensor::from_vector<float>({1, 3, 3, 2}, {-162, 10, -100, 232, -20, -50, -76, 0, 0, 252, 32, -44,
                                                       245, -485, -960, -270, -375, -470});
  Tensor s = Tensor::from_vector<float>({3}, {2, 4, 5});
  Tensor zp = Tensor::from_vector<uint8_t>({3}, {84, 24, 196});
  auto out = testing::run_op("QuantizeLinear", {&x, &s, &zp});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99,
                                                        4, 142, 121, 102}));
  EXPECT_EQ(testing::param_text(testing::npu_params_of("QuantizeLinear", {&x, &s, &zp}), "mode"), "per_axis");
}

TEST(QuantizeLinear, Int8HalfEvenAndDefaultUint8) {
  // Ties to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2; saturation at -128/127.
  Tensor x = Tensor::from_vector<float>({7}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -1000.f, 1000.f});
  Tensor s = Tensor::scalar<float>(1.f);
  Tensor zp = Tensor::scalar<int8_t>(0);
  auto out = testing::run_op("QuantizeLinear", {&x, &s, &zp});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].dtype(), DType::kInt8);
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{0, 2, 2, 0, -2, -128, 127}));
  // No zero point: uint8 with zero point 0.
  auto u = testing::run_op("QuantizeLinear", {&x, &s});
  ASSERT_TRUE(u.ok());
  EXPECT_EQ((*u)[0].dtype(), DType::kUInt8);
  EXPECT_EQ((*u)[0].to_int64(), (std::vector<int64_t>{0, 2, 2, 0, 0, 0, 255}));
}

TEST(QuantizeLinear, DividesLikeOnnxRuntime) {
  // x / scale is one float32 division: 0.3f / 0.1f = 3.0000002 -> 3, while x * (1 / 0.1f)
  // would differ on other values; checked against the float32 quotient computed here.
  Tensor x = testing::random_tensor({257}, 99, -20.f, 20.f);
  Tensor s = Tensor::scalar<float>(0.1f);
  Tensor zp = Tensor::scalar<int8_t>(-3);
  auto out = testing::run_op("QuantizeLinear", {&x, &s, &zp});
  ASSERT_TRUE(out.ok());
  auto q = (*out)[0].data<int8_t>();
  for (size_t i = 0; i < q.size(); ++i) {
    const float v = std::nearbyint(x.data<float>()[i] / 0.1f) - 3.f;  // default mode: ties to even
    EXPECT_EQ(q[i], static_cast<int8_t>(std::clamp(v, -128.f, 127.f))) << "index " << i << " seed 99";
  }
}

TEST(QuantizeLinear, RoundHalfEvenHelper) {
  EXPECT_EQ(ops::round_half_even(2.5f), 2.f);
  EXPECT_EQ(ops::round_half_even(3.5f), 4.f);
  EXPECT_EQ(ops::round_half_even(-2.5f), -2.f);
  EXPECT_EQ(ops::round_half_even(-2.4f), -2.f);
  EXPECT_EQ(ops::round_half_even(8388609.f), 8388609.f);  // 2^23 + 1: already an integer
  EXPECT_EQ(ops::round_half_even(NAN), 0.f);
}

TEST(QuantizeLinear, Errors) {
  Tensor x(DType::kFloat32, {1, 3, 2});
  Tensor s2 = Tensor::from_vector<float>({2}, {1, 1});
  EXPECT_TRUE(testing::fails_with(testing::run_op("QuantizeLinear", {&x, &s2}),
                                  "y_scale has 2 elements but input dimension 1 (axis) is 3"));
  Tensor s3 = Tensor::from_vector<float>({3}, {1, 1, 1});
  Tensor zp1 = Tensor::scalar<uint8_t>(0);
  EXPECT_TRUE(testing::fails_with(testing::run_op("QuantizeLinear", {&x, &s3, &zp1}),
                                  "y_zero_point has shape scalar but y_scale has shape 3"));
  Tensor zp32 = Tensor::scalar<int32_t>(0);
  Tensor s = Tensor::scalar<float>(1.f);
  EXPECT_TRUE(testing::fails_with(testing::run_op("QuantizeLinear", {&x, &s, &zp32}), "y_zero_point has type int32"));
  EXPECT_TRUE(testing::fails_with(testing::run_op("QuantizeLinear", {&x, &s3}, {{"axis", int64_t{3}}}),
                                  "axis 3 is out of range"));
  Tensor s22(DType::kFloat32, {3, 1});
  EXPECT_TRUE(testing::fails_with(testing::run_op("QuantizeLinear", {&x, &s22}), "must be a scalar (per tensor) or 1-D"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(QuantizeLinear, {.skip = "a QDQ model's own QuantizeLinear is read by calibration_type: load, not placed"});

}  // namespace
}  // namespace qmap
