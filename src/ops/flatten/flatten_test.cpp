#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Flatten, Axes) {
  // Expected by hand: prod(dims[:axis]) x prod(dims[axis:]) of 2x3x4x5.
  Tensor x(DType::kInt64, {2, 3, 4, 5});
  const std::pair<int64_t, Dims> cases[] = {{0, {1, 120}}, {1, {2, 60}}, {2, {6, 20}}, {4, {120, 1}},
                                            {-1, {24, 5}}, {-4, {1, 120}}};
  for (const auto& [axis, dims] : cases) {
    auto out = testing::run_op("Flatten", {&x}, {{"axis", axis}});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ((*out)[0].dims(), dims) << "axis " << axis;
    EXPECT_EQ((*out)[0].dtype(), DType::kInt64);
  }
}

TEST(Flatten, DefaultAxisKeepsValues) {
  Tensor x = testing::random_tensor({2, 3, 2}, 3);
  auto out = testing::run_op("Flatten", {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], x.reshaped({2, 6}), 0, 0));
}

TEST(Flatten, AxisOutOfRange) {
  Tensor x(DType::kFloat32, {2, 3});
  auto out = testing::run_op("Flatten", {&x}, {{"axis", int64_t{3}}});
  EXPECT_TRUE(testing::has_text(out.status(), "axis 3 is out of range for a rank-2 input: must be in [-2, 2]"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Flatten, testing::unary_example("Flatten"));

}  // namespace
}  // namespace qmap
