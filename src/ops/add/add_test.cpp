#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Add, BroadcastShapeAndValues) {
  // 2x3 + 3 (row vector) by hand.
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector<float>({3}, {10, 20, 30});
  auto out = testing::run_op("Add", {&a, &b});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({2, 3}, {11, 22, 33, 14, 25, 36})));
}

TEST(Add, TwoSidedBroadcast) {
  // 3x1 + 1x2 -> 3x2, by hand.
  Tensor a = Tensor::from_vector<float>({3, 1}, {1, 2, 3});
  Tensor b = Tensor::from_vector<float>({1, 2}, {10, 20});
  auto out = testing::run_op("Add", {&a, &b});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3, 2}, {11, 21, 12, 22, 13, 23})));
}

TEST(Add, IntegerTypesWrap) {
  // uint8 wraps modulo 256 (ONNX Runtime); int64 used for shape arithmetic.
  Tensor a = Tensor::from_vector<uint8_t>({3}, {250, 1, 128});
  Tensor b = Tensor::from_vector<uint8_t>({3}, {10, 2, 128});
  auto out = testing::run_op("Add", {&a, &b});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].dtype(), DType::kUInt8);
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{4, 3, 0}));
  Tensor c = Tensor::from_vector<int64_t>({2}, {1, -5});
  Tensor d = Tensor::scalar<int64_t>(3);
  auto o2 = testing::run_op("Add", {&c, &d});
  ASSERT_TRUE(o2.ok());
  EXPECT_EQ((*o2)[0].to_int64(), (std::vector<int64_t>{4, -2}));
}

TEST(Add, Errors) {
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector<float>({2}, {1, 2});
  EXPECT_TRUE(testing::fails_with(testing::run_op("Add", {&a, &b}), "input shapes 2x3 and 2 cannot be broadcast"));
  Tensor c = Tensor::from_vector<int32_t>({3}, {1, 2, 3});
  EXPECT_TRUE(testing::fails_with(testing::run_op("Add", {&a, &c}), "input 1 has type int32 but input 0 has type float32"));
  Tensor d = Tensor::from_vector<double>({1}, {1});
  EXPECT_TRUE(testing::fails_with(testing::run_op("Add", {&d, &d}), "input 0 has type float64: supported types"));
}

TEST(Add, NpuBroadcastParam) {
  Tensor x(DType::kFloat32, {1, 8, 4, 4});
  Tensor per_c(DType::kFloat32, {8, 1, 1});
  Tensor s = Tensor::scalar<float>(1.f);
  Tensor row(DType::kFloat32, {4});
  EXPECT_EQ(testing::param_text(testing::npu_params_of("Add", {&x, &x}), "broadcast"), "none");
  EXPECT_EQ(testing::param_text(testing::npu_params_of("Add", {&s, &x}), "broadcast"), "scalar");
  EXPECT_EQ(testing::param_text(testing::npu_params_of("Add", {&x, &per_c}), "broadcast"), "channel");
  EXPECT_EQ(testing::param_text(testing::npu_params_of("Add", {&x, &row}), "broadcast"), "general");
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Add, testing::unary_example("Add", {}, {Tensor::from_vector<float>({4, 1, 1}, {0.1f, -0.2f, 0.3f, 0.5f})}));

}  // namespace
}  // namespace qmap
