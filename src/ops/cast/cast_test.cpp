#include <cmath>

#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Cast, FloatToIntTruncatesTowardZero) {
  Tensor x = Tensor::from_vector<float>({5}, {-2.7f, -0.5f, 0.5f, 2.7f, 1e20f});
  auto out = testing::run_op("Cast", {&x}, {{"to", int64_t{6}}});  // INT32
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dtype(), DType::kInt32);
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{-2, 0, 0, 2, 2147483647}));
}

TEST(Cast, FloatDoubleBoolInt64) {
  // test_cast_FLOAT_to_DOUBLE form; int64 -> bool is value != 0; bool -> float is 0/1.
  Tensor x = Tensor::from_vector<float>({2}, {0.1f, -3.f});
  auto d = testing::run_op("Cast", {&x}, {{"to", int64_t{11}}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)[0].data<double>()[0], static_cast<double>(0.1f));
  Tensor i = Tensor::from_vector<int64_t>({3}, {0, 5, -1});
  auto b = testing::run_op("Cast", {&i}, {{"to", int64_t{9}}});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)[0].to_int64(), (std::vector<int64_t>{0, 1, 1}));
  auto f = testing::run_op("Cast", {&(*b)[0]}, {{"to", int64_t{1}}});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(testing::tensors_near((*f)[0], Tensor::from_vector<float>({3}, {0, 1, 1})));
}

TEST(Cast, RejectsTypesOutsideTheIr) {
  Tensor x = Tensor::from_vector<float>({1}, {1});
  EXPECT_TRUE(testing::fails_with(testing::run_op("Cast", {&x}, {{"to", int64_t{10}}}), "to 10 (FLOAT16) is not supported"));
  EXPECT_TRUE(testing::fails_with(testing::run_op("Cast", {&x}, {{"to", int64_t{16}}}), "(BFLOAT16)"));
  EXPECT_TRUE(testing::fails_with(testing::run_op("Cast", {&x}, {{"to", int64_t{8}}}), "(STRING)"));
  EXPECT_TRUE(testing::fails_with(testing::run_op("Cast", {&x}, {{"to", int64_t{99}}}), "(UNKNOWN)"));
  EXPECT_TRUE(testing::fails_with(testing::run_op("Cast", {&x}), "attribute 'to' is missing"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Cast, testing::unary_example("Cast", {{"to", int64_t{1}}}));

}  // namespace
}  // namespace qmap
