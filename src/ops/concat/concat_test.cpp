#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::has_text;

TEST(Concat, Axis1AndNegativeAxis) {
  // Expected by hand: rows of a then rows of b joined per row.
  Tensor a = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector<float>({2, 1}, {5, 6});
  for (int64_t axis : {1, -1}) {
    auto out = testing::run_op("Concat", {&a, &b}, {{"axis", axis}});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({2, 3}, {1, 2, 5, 3, 4, 6})));
  }
}

TEST(Concat, Axis0Int64AndEmptyInput) {
  Tensor a = Tensor::from_vector<int64_t>({2}, {7, 8});
  Tensor e(DType::kInt64, {0});
  Tensor b = Tensor::from_vector<int64_t>({1}, {-1});
  auto out = testing::run_op("Concat", {&a, &e, &b}, {{"axis", int64_t{0}}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dtype(), DType::kInt64);
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{7, 8, -1}));
}

TEST(Concat, Bool3D) {
  Tensor a = Tensor::from_vector<bool>({1, 2, 1}, {true, false});
  Tensor b = Tensor::from_vector<bool>({1, 2, 2}, {false, true, true, false});
  auto out = testing::run_op("Concat", {&a, &b}, {{"axis", int64_t{2}}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dims(), (Dims{1, 2, 3}));
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{1, 0, 1, 0, 1, 0}));
}

TEST(Concat, UnknownDimsGiveUnknownOutput) {
  auto out = testing::infer_op("Concat", {testing::unknown(DType::kFloat32, Dims{1, 2}),
                                          testing::unknown(DType::kFloat32, std::nullopt)},
                               {{"axis", int64_t{1}}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_FALSE((*out)[0].dims.has_value());
}

TEST(Concat, Errors) {
  Tensor a(DType::kFloat32, {2, 3});
  Tensor b(DType::kFloat32, {3, 3});
  Tensor c(DType::kInt32, {2, 3});
  Tensor d(DType::kFloat32, {2, 3, 1});
  EXPECT_TRUE(has_text(testing::run_op("Concat", {&a, &b}, {{"axis", int64_t{1}}}).status(),
                       "dimensions other than axis 1 must match"));
  EXPECT_TRUE(has_text(testing::run_op("Concat", {&a, &c}, {{"axis", int64_t{0}}}).status(), "share one type"));
  EXPECT_TRUE(has_text(testing::run_op("Concat", {&a, &d}, {{"axis", int64_t{0}}}).status(), "ranks must match"));
  EXPECT_TRUE(has_text(testing::run_op("Concat", {&a, &a}, {{"axis", int64_t{2}}}).status(), "axis 2 is out of range"));
  EXPECT_TRUE(has_text(testing::run_op("Concat", {&a, &a}).status(), "axis is required"));
}

TEST(Concat, NpuParamsAxis) {
  Tensor a(DType::kFloat32, {1, 2, 4, 4});
  const OpParams p = testing::npu_params_of("Concat", {{"axis", int64_t{-3}}}, {testing::known(a), testing::known(a)}, Dims{1, 4, 4, 4});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].name, "axis");
  EXPECT_EQ(p[0].ints, (std::vector<int64_t>{1}));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Concat, {.build = [](testing::GraphBuilder& b, ValueId x) {
  return std::vector<ValueId>{b.node("Concat", "n", {x, x}, {{"axis", int64_t{1}}})};
}});

}  // namespace
}  // namespace qmap
