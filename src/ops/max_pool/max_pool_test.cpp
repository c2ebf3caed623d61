#include "ops/common/conv_pool_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::fails_with;
using testing::infer_op;
using testing::Ints;

// 1x1x5x5 holding 1..25 (the ONNX maxpool "precomputed" input).
template <typename T>
Tensor one_to_25() {
  std::vector<T> v(25);
  for (int i = 0; i < 25; ++i) v[static_cast<size_t>(i)] = static_cast<T>(i + 1);
  return Tensor::from_vector<T>({1, 1, 5, 5}, v);
}

TEST(MaxPoolOp, ShapeInference) {
  auto r = infer_op("MaxPool", {{Dims{1, 64, 112, 112}}},
                    {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 64, 56, 56}));
  EXPECT_EQ(r.outputs[1].dtype, DType::kInt64);
  EXPECT_EQ(testing::find_param(r.params, "kernel")->ints, (Ints{3, 3}));
  EXPECT_EQ(testing::find_param(r.params, "pad")->ints, (Ints{1, 1, 1, 1}));
  // ceil_mode: 4x4, k3, s2 -> ceil((4-3)/2)+1 = 2. A window that would start in the end
  // padding is dropped: 5 wide, k2, s2, pad end 1 -> ceil(4/2)+1 = 3, last start 4 < 5 kept;
  // 4 wide, k2, s2, pad end 1 -> ceil(3/2)+1 = 3, but start 4 >= 4 -> 2.
  r = infer_op("MaxPool", {{Dims{1, 1, 4, 4}}}, {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}});
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 1, 2, 2}));
  r = infer_op("MaxPool", {{Dims{1, 1, 5}}}, {{"kernel_shape", Ints{2}}, {"strides", Ints{2}}, {"pads", Ints{0, 1}}, {"ceil_mode", int64_t{1}}});
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 1, 3}));
  r = infer_op("MaxPool", {{Dims{1, 1, 4}}}, {{"kernel_shape", Ints{2}}, {"strides", Ints{2}}, {"pads", Ints{0, 1}}, {"ceil_mode", int64_t{1}}});
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 1, 2}));
  r = infer_op("MaxPool", {{Dims{1, 3, 32, 32}}}, {{"kernel_shape", Ints{2, 2}}, {"auto_pad", std::string("SAME_LOWER")}});
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 3, 32, 32}));
  r = infer_op("MaxPool", {{std::nullopt}}, {{"kernel_shape", Ints{2, 2}}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.outputs[0].dims.has_value());
}

TEST(MaxPoolOp, Rejections) {
  EXPECT_TRUE(fails_with(infer_op("MaxPool", {{Dims{1, 1, 4, 4}}}).status, "kernel_shape is required"));
  EXPECT_TRUE(fails_with(infer_op("MaxPool", {{Dims{1, 1, 4, 4}}}, {{"kernel_shape", Ints{2}}}).status,
                         "has 1 axes: the input has 2 spatial axes"));
  EXPECT_TRUE(fails_with(infer_op("MaxPool", {{Dims{1, 1, 4, 4}}}, {{"kernel_shape", Ints{2, 2}}, {"storage_order", int64_t{2}}}).status,
                         "storage_order 2 must be 0"));
  EXPECT_TRUE(fails_with(infer_op("MaxPool", {{Dims{1, 1, 4, 4}}}, {{"kernel_shape", Ints{2, 2}}, {"ceil_mode", int64_t{3}}}).status,
                         "ceil_mode 3 must be 0 or 1"));
  EXPECT_TRUE(fails_with(infer_op("MaxPool", {{Dims{1, 1, 4, 4}, DType::kInt64}}, {{"kernel_shape", Ints{2, 2}}}).status,
                         "supported types are float32, float64, int8, uint8"));
  EXPECT_TRUE(fails_with(infer_op("MaxPool", {{Dims{4, 4}}}, {{"kernel_shape", Ints{2, 2}}}).status,
                         "at least one spatial axis"));
}

TEST(MaxPoolOp, FloatAndUint8Golden) {
  // ONNX test_maxpool_2d_precomputed_strides: k2 s2 over 1..25 -> [[7, 9], [17, 19]].
  Tensor x = one_to_25<float>();
  auto y = testing::run_op("MaxPool", {&x}, {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}});
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 1, 2, 2}, {7, 9, 17, 19})));
  // ONNX test_maxpool_2d_uint8: k5 pads 2 -> each output is the max of the clipped 5x5
  // window: row 0 = 13 14 15 15 15, row 4 = 23 24 25 25 25.
  Tensor xu = one_to_25<uint8_t>();
  y = testing::run_op("MaxPool", {&xu}, {{"kernel_shape", Ints{5, 5}}, {"pads", Ints{2, 2, 2, 2}}});
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<uint8_t>({1, 1, 5, 5}, {
      13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25, 25, 25,
      23, 24, 25, 25, 25, 23, 24, 25, 25, 25})));
}

TEST(MaxPoolOp, IndicesOutput) {
  // ONNX test_maxpool_with_argmax_2d_precomputed_strides: k2 s2, storage_order 1 ->
  // values [[7, 9], [17, 19]], indices (column-major h + w*5) [[6, 16], [8, 18]].
  Tensor x = one_to_25<float>();
  auto y = testing::run_op("MaxPool", {&x},
                           {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"storage_order", int64_t{1}}}, 2);
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 1, 2, 2}, {7, 9, 17, 19})));
  EXPECT_EQ((*y)[1].to_int64(), (std::vector<int64_t>{6, 16, 8, 18}));
}

TEST(MaxPoolOp, FastAndReferencePathsAgreeIn1d2d3d) {
  // A 3-D pool with a unit depth axis runs the N-D reference loop; the same 2-D pool runs the
  // fast path; a 1-D pool maps onto the 2-D path. All must agree exactly.
  Tensor x = testing::random_tensor({2, 3, 9, 8}, 5);
  const std::map<std::string, AttrValue> a2{{"kernel_shape", Ints{3, 2}}, {"strides", Ints{2, 3}},
                                            {"pads", Ints{1, 0, 1, 1}}, {"dilations", Ints{2, 1}},
                                            {"ceil_mode", int64_t{1}}};
  const std::map<std::string, AttrValue> a3{{"kernel_shape", Ints{1, 3, 2}}, {"strides", Ints{1, 2, 3}},
                                            {"pads", Ints{0, 1, 0, 0, 1, 1}}, {"dilations", Ints{1, 2, 1}},
                                            {"ceil_mode", int64_t{1}}};
  auto y2 = testing::run_op("MaxPool", {&x}, a2);
  Tensor x3 = x.reshaped({2, 3, 1, 9, 8});
  auto y3 = testing::run_op("MaxPool", {&x3}, a3);
  ASSERT_TRUE(y2.ok() && y3.ok());
  EXPECT_TRUE(testing::tensors_near((*y3)[0].reshaped((*y2)[0].dims()), (*y2)[0], 0, 0));
  Tensor x1 = x.reshaped({2, 3, 72});
  auto y1 = testing::run_op("MaxPool", {&x1}, {{"kernel_shape", Ints{4}}, {"strides", Ints{3}}, {"pads", Ints{2, 1}}});
  Tensor x13 = x.reshaped({2, 3, 1, 1, 72});
  auto y13 = testing::run_op("MaxPool", {&x13}, {{"kernel_shape", Ints{1, 1, 4}}, {"strides", Ints{1, 1, 3}},
                                                  {"pads", Ints{0, 0, 2, 0, 0, 1}}});
  ASSERT_TRUE(y1.ok() && y13.ok());
  EXPECT_TRUE(testing::tensors_near((*y13)[0].reshaped((*y1)[0].dims()), (*y1)[0], 0, 0));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(MaxPool, testing::unary_example("MaxPool", {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}}));

}  // namespace
}  // namespace qmap
