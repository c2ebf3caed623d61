#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(DequantizeLinear, PerTensorUint8) {
  // test_dequantizelinear: (x - 128) * 2.
  Tensor x = Tensor::from_vector<uint8_t>({4}, {0, 3, 128, 255});
  Tensor s = Tensor::scalar<float>(2.f);
  Tensor zp = Tensor::scalar<uint8_t>(128);
  auto out = testing::run_op("DequantizeLinear", {&x, &s, &zp});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({4}, {-256, -250, 0, 254}), 0, 0));
  EXPECT_EQ(testing::param_text(testing::npu_params_of("DequantizeLinear", {&x, &s, &zp}), "mode"), "per_tensor");
}

TEST(DequantizeLinear, PerAxisNegativeAxis) {
  // test_dequantizelinear_axis values (1x3x3x2), with axis -3 naming the same axis as 1.
  Tensor x = Tensor::from_vector<uint8_t>({1, 3, 3, 2}, {3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99,
                                                         4, 142, 121, 102});
  Tensor s = Tensor::from_vector<float>({3}, {2, 4, 5});
  Tensor zp = Tensor::from_vector<uint8_t>({3}, {84, 24, 196});
  auto out = testing::run_op("DequantizeLinear", {&x, &s, &zp}, {{"axis", int64_t{-3}}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near(
      (*out)[0], Tensor::from_vector<float>({1, 3, 3, 2}, {-162, 10, -100, 232, -20, -50, -76, 0, 0, 252, 32, -44,
                                                           245, -485, -960, -270, -375, -470}), 0, 0));
  EXPECT_EQ(testing::param_ints(testing::npu_params_of("DequantizeLinear", {&x, &s, &zp}, {{"axis", int64_t{-3}}}), "axis"),
            (std::vector<int64_t>{1}));
}

TEST(DequantizeLinear, Int8AndInt32Bias) {
  // int8 with zero point -1: (x + 1) * 0.5; int32 bias without zero point: x * 0.25.
  Tensor x = Tensor::from_vector<int8_t>({3}, {-128, -1, 127});
  Tensor s = Tensor::scalar<float>(0.5f);
  Tensor zp = Tensor::scalar<int8_t>(-1);
  auto out = testing::run_op("DequantizeLinear", {&x, &s, &zp});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3}, {-63.5f, 0.f, 64.f}), 0, 0));
  Tensor b = Tensor::from_vector<int32_t>({2}, {-1000000, 7});
  Tensor sb = Tensor::from_vector<float>({2}, {0.25f, 0.5f});
  auto ob = testing::run_op("DequantizeLinear", {&b, &sb}, {{"axis", int64_t{0}}});
  ASSERT_TRUE(ob.ok()) << ob.status().message();
  EXPECT_TRUE(testing::tensors_near((*ob)[0], Tensor::from_vector<float>({2}, {-250000.f, 3.5f}), 0, 0));
}

TEST(DequantizeLinear, Errors) {
  Tensor x = Tensor::from_vector<uint8_t>({2}, {1, 2});
  Tensor s = Tensor::scalar<float>(1.f);
  Tensor zp = Tensor::scalar<int8_t>(0);
  EXPECT_TRUE(testing::fails_with(testing::run_op("DequantizeLinear", {&x, &s, &zp}),
                                  "x_zero_point has type int8: supported types here are uint8"));
  Tensor f = Tensor::from_vector<float>({1}, {1});
  EXPECT_TRUE(testing::fails_with(testing::run_op("DequantizeLinear", {&f, &s}), "input 0 has type float32"));
  Tensor s64 = Tensor::scalar<double>(1.0);
  EXPECT_TRUE(testing::fails_with(testing::run_op("DequantizeLinear", {&x, &s64}), "x_scale has type float64: it must be float32"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(DequantizeLinear, {.skip = "a QDQ model's own DequantizeLinear is read by calibration_type: load, not placed"});

}  // namespace
}  // namespace qmap
