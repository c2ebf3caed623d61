#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::has_text;
Tensor ints(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

TEST(Reshape, ZeroCopiesAndMinusOneInfers) {
  // Expected by hand: 2x3x4 with shape [0, -1] -> 2x12; [-1, 0, 2] -> 4x3x2 (0 copies dim 1 = 3).
  Tensor x = testing::random_tensor({2, 3, 4}, 5);
  Tensor s1 = ints({0, -1}), s2 = ints({-1, 0, 2});
  auto a = testing::run_op("Reshape", {&x, &s1});
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(testing::tensors_near((*a)[0], x.reshaped({2, 12}), 0, 0));
  auto b = testing::run_op("Reshape", {&x, &s2});
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ((*b)[0].dims(), (Dims{4, 3, 2}));
}

TEST(Reshape, AllowZeroKeepsZeroDims) {
  Tensor x(DType::kBool, {0, 3, 4});
  Tensor s = ints({3, 4, 0});
  auto out = testing::run_op("Reshape", {&x, &s}, {{"allowzero", int64_t{1}}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dims(), (Dims{3, 4, 0}));
}

TEST(Reshape, Errors) {
  Tensor x(DType::kFloat32, {2, 3});
  Tensor two_neg = ints({-1, -1}), bad = ints({4, 2}), nodiv = ints({4, -1}), zero_far = ints({1, 1, 0}),
         neg = ints({-2, 3});
  EXPECT_TRUE(has_text(testing::run_op("Reshape", {&x, &two_neg}).status(), "more than one -1"));
  EXPECT_TRUE(has_text(testing::run_op("Reshape", {&x, &bad}).status(), "element counts must match"));
  EXPECT_TRUE(has_text(testing::run_op("Reshape", {&x, &nodiv}).status(), "do not divide"));
  EXPECT_TRUE(has_text(testing::run_op("Reshape", {&x, &zero_far}).status(), "0 copies an existing input dim"));
  EXPECT_TRUE(has_text(testing::run_op("Reshape", {&x, &neg}).status(), "dims must be >= -1"));
  Tensor z = ints({0, -1});
  EXPECT_TRUE(has_text(testing::run_op("Reshape", {&x, &z}, {{"allowzero", int64_t{1}}}).status(),
                       "both -1 and 0 with allowzero=1"));
  // Target dims whose product overflows int64 (found by fuzz/onnx_fuzz.cpp: signed overflow,
  // undefined behaviour, before this check): an error, with and without a -1.
  Tensor huge = ints({16, 7598819853034127368}), huge_infer = ints({-1, 16, 7598819853034127368});
  EXPECT_TRUE(has_text(testing::run_op("Reshape", {&x, &huge}).status(), "more elements than int64 holds"));
  EXPECT_TRUE(has_text(testing::run_op("Reshape", {&x, &huge_infer}).status(), "more elements than int64 holds"));
}

TEST(Reshape, UnknownShapeValueGivesUnknownDims) {
  auto out = testing::infer_op("Reshape", {testing::unknown(DType::kFloat32, Dims{2, 3}),
                                           testing::unknown(DType::kInt64, Dims{2})});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_FALSE((*out)[0].dims.has_value());
  EXPECT_EQ((*out)[0].dtype, DType::kFloat32);
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Reshape, testing::unary_example("Reshape", {}, {testing::ints({1, 4, 36})}));

}  // namespace
}  // namespace qmap
