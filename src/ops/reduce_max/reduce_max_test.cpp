#include <cmath>
#include <limits>

#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(ReduceMax, FloatAxesAndNaN) {
  // Expected by hand; a NaN in the slice gives NaN (numpy.max semantics).
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, -5, 3, nan, 0, -1});
  auto out = testing::run_op("ReduceMax", {&x}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dims(), (Dims{2}));
  EXPECT_EQ((*out)[0].data<float>()[0], 3.f);
  EXPECT_TRUE(std::isnan((*out)[0].data<float>()[1]));
}

TEST(ReduceMax, IntegerTypes) {
  Tensor a = Tensor::from_vector<int8_t>({2, 2}, {-128, -7, -3, -100});
  auto out = testing::run_op("ReduceMax", {&a}, {{"axes", std::vector<int64_t>{0}}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dims(), (Dims{1, 2}));
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{-3, -7}));
  Tensor b = Tensor::from_vector<int64_t>({3}, {4, 9000000000LL, -1});
  auto out2 = testing::run_op("ReduceMax", {&b}, {{"keepdims", int64_t{0}}});
  ASSERT_TRUE(out2.ok()) << out2.status().message();
  EXPECT_EQ((*out2)[0].dims(), Dims{});
  EXPECT_EQ((*out2)[0].to_int64(), (std::vector<int64_t>{9000000000LL}));
}

TEST(ReduceMax, RandomMiddleAxisAgainstReferenceLoop) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const int64_t a = 1 + seed % 3, b = 1 + (seed * 7) % 9, c = 1 + (seed * 5) % 4;
    Tensor x = testing::random_tensor({a, b, c}, seed, -10, 10);
    auto out = testing::run_op("ReduceMax", {&x}, {{"axes", std::vector<int64_t>{-2}}});
    ASSERT_TRUE(out.ok()) << out.status().message();
    Tensor expect(DType::kFloat32, {a, 1, c});
    for (int64_t i = 0; i < a; ++i)
      for (int64_t k = 0; k < c; ++k) {
        float m = -INFINITY;
        for (int64_t j = 0; j < b; ++j) m = std::max(m, x.data<float>()[static_cast<size_t>((i * b + j) * c + k)]);
        expect.data<float>()[static_cast<size_t>(i * c + k)] = m;
      }
    ASSERT_TRUE(testing::tensors_near((*out)[0], expect, 0, 0)) << "seed " << seed;
  }
}

TEST(ReduceMax, RejectsBool) {
  Tensor x(DType::kBool, {2});
  EXPECT_TRUE(testing::has_text(testing::run_op("ReduceMax", {&x}).status(), "input 0 has type bool"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(ReduceMax, testing::unary_example("ReduceMax", {{"axes", std::vector<int64_t>{1}}}));

}  // namespace
}  // namespace qmap
