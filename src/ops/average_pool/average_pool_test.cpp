#include "ops/common/conv_pool_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::fails_with;
using testing::infer_op;
using testing::Ints;

Tensor seq(Dims dims, float start) {
  Tensor t(DType::kFloat32, std::move(dims));
  float v = start;
  for (float& e : t.data<float>()) e = v++;
  return t;
}

TEST(AveragePoolOp, ShapeAndRejections) {
  auto r = infer_op("AveragePool", {{Dims{1, 3, 32, 32}}}, {{"kernel_shape", Ints{5, 5}}, {"strides", Ints{3, 3}}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 3, 10, 10}));
  EXPECT_EQ(testing::find_param(r.params, "count_include_pad")->ints, (Ints{0}));
  EXPECT_TRUE(fails_with(infer_op("AveragePool", {{Dims{1, 1, 4, 4}}}, {{"kernel_shape", Ints{2, 2}}, {"count_include_pad", int64_t{2}}}).status,
                         "count_include_pad 2 must be 0 or 1"));
  EXPECT_TRUE(fails_with(infer_op("AveragePool", {{Dims{1, 1, 4, 4}, DType::kUInt8}}, {{"kernel_shape", Ints{2, 2}}}).status,
                         "supported types are float32"));
  EXPECT_TRUE(fails_with(infer_op("AveragePool", {{Dims{1, 1, 2, 2}}}, {{"kernel_shape", Ints{3, 3}}}).status,
                         "smaller than the dilated kernel size 3"));
}

TEST(AveragePoolOp, CeilModeClipsTheLastWindow) {
  // ONNX test_averagepool_2d_ceil: x = 1..16 as 4x4, k3 s2 ceil -> [[6, 7.5], [12, 13.5]]
  // (the right/bottom windows cover only 2 input columns/rows and divide by what they cover).
  Tensor x = seq({1, 1, 4, 4}, 1);
  auto y = testing::run_op("AveragePool", {&x}, {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}});
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 1, 2, 2}, {6, 7.5f, 12, 13.5f})));
}

TEST(AveragePoolOp, CountIncludePad) {
  // ONNX test_averagepool_2d_precomputed_pads(_count_include_pad): x = 1..25 as 5x5, k5,
  // pads 2. Without padding in the divisor the corner is mean(1,2,3,6,7,8,11,12,13) = 7;
  // with it the corner is 63 / 25 = 2.52 (values from the ONNX test data).
  Tensor x = seq({1, 1, 5, 5}, 1);
  const std::map<std::string, AttrValue> a{{"kernel_shape", Ints{5, 5}}, {"pads", Ints{2, 2, 2, 2}}};
  auto y = testing::run_op("AveragePool", {&x}, a);
  ASSERT_TRUE(y.ok());
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 1, 5, 5}, {
      7, 7.5f, 8, 8.5f, 9, 9.5f, 10, 10.5f, 11, 11.5f, 12, 12.5f, 13, 13.5f, 14,
      14.5f, 15, 15.5f, 16, 16.5f, 17, 17.5f, 18, 18.5f, 19})));
  auto ya = a;
  ya["count_include_pad"] = int64_t{1};
  y = testing::run_op("AveragePool", {&x}, ya);
  ASSERT_TRUE(y.ok());
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 1, 5, 5}, {
      2.52f, 3.6f, 4.8f, 4.08f, 3.24f, 4.56f, 6.4f, 8.4f, 7.04f, 5.52f, 7.2f, 10, 13, 10.8f, 8.4f,
      6.96f, 9.6f, 12.4f, 10.24f, 7.92f, 6.12f, 8.4f, 10.8f, 8.88f, 6.84f})));
}

TEST(AveragePoolOp, SameUpperAndThreeD) {
  // SAME_UPPER k2 on a 1x1x3x3 of 1..9: pads (0, 1) per axis; the last row/column windows
  // cover one input row/column: [[3, 4, 4.5], [6, 7, 7.5], [7.5, 8.5, 9]] (hand computation).
  Tensor x = seq({1, 1, 3, 3}, 1);
  auto y = testing::run_op("AveragePool", {&x}, {{"kernel_shape", Ints{2, 2}}, {"auto_pad", std::string("SAME_UPPER")}});
  ASSERT_TRUE(y.ok());
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 1, 3, 3}, {3, 4, 4.5f, 6, 7, 7.5f, 7.5f, 8.5f, 9})));
  // 3-D (reference loop) with a unit depth axis equals the 2-D result.
  Tensor x3 = x.reshaped({1, 1, 1, 3, 3});
  auto y3 = testing::run_op("AveragePool", {&x3}, {{"kernel_shape", Ints{1, 2, 2}}, {"auto_pad", std::string("SAME_UPPER")}});
  ASSERT_TRUE(y3.ok());
  EXPECT_TRUE(testing::tensors_near((*y3)[0].reshaped({1, 1, 3, 3}), (*y)[0]));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(AveragePool, testing::unary_example("AveragePool", {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}}));

}  // namespace
}  // namespace qmap
